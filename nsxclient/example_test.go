package nsxclient_test

import (
	"context"
	"fmt"
	"os"

	"github.com/microseg/microseg/nsxclient"
)

// A client for a manager with a private CA, using session authentication and credentials read
// from a mounted secret at each login.
func ExampleNew() {
	caPEM, _ := os.ReadFile("/etc/nsx/ca.crt")
	client, err := nsxclient.New(nsxclient.Config{
		Host:     "https://nsx.example.com",
		AuthMode: nsxclient.AuthSession,
		Credentials: nsxclient.CredentialsFunc(func(context.Context) (string, string, error) {
			user, err := os.ReadFile("/etc/nsx/username")
			if err != nil {
				return "", "", err
			}
			pass, err := os.ReadFile("/etc/nsx/password")
			return string(user), string(pass), err
		}),
		CACertPEM: caPEM,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer func() { _ = client.Logout(context.Background()) }()
}

// Updating a section with optimistic concurrency: on a stale revision, read again and reapply.
func ExampleClient_UpdateSectionWithRules() {
	var client *nsxclient.Client // from nsxclient.New
	ctx := context.Background()
	for range 3 {
		current, err := client.ListSectionWithRules(ctx, "section-id")
		if err != nil {
			return
		}
		desired := *current
		desired.Rules = append(desired.Rules, nsxclient.FirewallRule{
			DisplayName: "allow-web",
			Action:      nsxclient.ActionAllow,
			Services:    []nsxclient.FirewallService{nsxclient.L4PortSet(nsxclient.L4ProtocolTCP, "443")},
		})
		_, err = client.UpdateSectionWithRules(ctx, desired)
		if nsxclient.IsStaleRevision(err) {
			continue // someone else changed the section: start again from a fresh read
		}
		return
	}
}
