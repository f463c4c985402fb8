package config_test

import (
	"fmt"

	"github.com/trunkline/trunkline/config"
)

func ExampleParse() {
	_, err := config.Parse("trunkline.yaml", []byte(`
sipTrunks:
  - {id: carrier, destinationHosts: ["sip.carrier.example"]}
routes:
  - id: main
    criteria: [{to: "44(.+)"}]
    destinations:
      - {type: ENDPOINT, priority: 1, value: {type: SIP, sipTrunkId: carrier}}
      - {type: ENDPOINT, value: {type: SIP, sipTrunkId: pbx}}
`))
	fmt.Println(err)
	// Output:
	// trunkline.yaml: routes[0].destinations[1].priority: missing: destinations[0] sets a priority, so every destination of the route needs one (or none does)
	// trunkline.yaml: routes[0].destinations[1].value.sipTrunkId: no sipTrunks entry has id "pbx"
}
