package trunkhealth_test

import (
	"context"
	"fmt"

	"github.com/trunkline/trunkline/config"
	"github.com/trunkline/trunkline/sbc/trunkhealth"
)

// A monitor driven round by round with Poll; a real one runs Start(ctx)
// and is stopped with Stop.
func Example() {
	answers := map[string]int{"192.0.2.1:5060": 503, "192.0.2.2:5060": 200}
	prober := trunkhealth.ProberFunc(func(_ context.Context, t trunkhealth.Target) (int, error) {
		return answers[t.Addr.String()], nil
	})
	m, err := trunkhealth.New(trunkhealth.Options{
		Prober: prober,
		OnChange: func(c trunkhealth.Change) {
			what := "trunk " + c.TrunkID
			if c.Addr.IsValid() {
				what = "address " + c.Addr.String()
			}
			fmt.Printf("%s down=%v: %s\n", what, c.Down, c.Reason)
		},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer m.Stop()
	m.Update([]config.SIPTrunk{{
		ID:               "carrier-a",
		DestinationHosts: []string{"192.0.2.1", "192.0.2.2"},
		SIPOptions:       &config.SIPOptions{Enabled: true, DownAfter: 2},
	}})
	for range 2 {
		m.Poll(context.Background())
	}
	fmt.Println("trunk down:", m.TrunkDown("carrier-a"))
	answers["192.0.2.2:5060"] = 0 // no response: counted as a failure
	for range 2 {
		m.Poll(context.Background())
	}
	fmt.Println("trunk down:", m.TrunkDown("carrier-a"))
	// Output:
	// address 192.0.2.1:5060 down=true: 2 consecutive failures, last: 503 response
	// trunk down: false
	// address 192.0.2.2:5060 down=true: 2 consecutive failures, last: no response
	// trunk carrier-a down=true: all 2 addresses down
	// trunk down: true
}
