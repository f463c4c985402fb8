package resolve_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/trunkline/trunkline/sbc/resolve"
)

// A destination given as an IP literal is used as it is, on the
// transport's default port; no DNS server is asked.
func ExampleResolver_Resolve() {
	r := resolve.New([]string{"192.0.2.53:53"})
	targets, err := r.Resolve(context.Background(), "198.51.100.5", 0, "TLS")
	if err != nil {
		var e *resolve.Error
		if errors.As(err, &e) {
			fmt.Println("DNS failure for", e.Name)
		}
		return
	}
	for _, t := range targets {
		fmt.Println(t.Transport, t.Addr)
	}
	// Output:
	// TLS 198.51.100.5:5061
}

// OrderSRV sorts by priority, then draws by weight within a priority.
// Here the random source always draws 0, which picks the first record
// listed of the priority; math/rand/v2.IntN (nil) gives b.example.net the
// first place 40% of the time.
func ExampleOrderSRV() {
	records := []resolve.SRV{
		{Target: "backup.example.net", Port: 5060, Priority: 20, Weight: 100},
		{Target: "b.example.net", Port: 5060, Priority: 10, Weight: 40},
		{Target: "a.example.net", Port: 5060, Priority: 10, Weight: 60},
	}
	for _, s := range resolve.OrderSRV(records, func(int) int { return 0 }) {
		fmt.Println(s.Priority, s.Weight, s.Target)
	}
	// Output:
	// 10 40 b.example.net
	// 10 60 a.example.net
	// 20 100 backup.example.net
}
