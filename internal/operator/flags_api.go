package operator

import (
	"errors"
	"flag"
	"fmt"

	"github.com/microseg/microseg/internal/nsxsync/auto"
	"github.com/microseg/microseg/internal/nsxsync/policy"
	"github.com/microseg/microseg/nsxclient"
)

// APIFlags choose the NSX API and configure the Policy API backend.
type APIFlags struct {
	NSXAPI        string
	PolicyDomain  string
	SecurityBand  string
	DeveloperBand string
	BaselineBand  string
}

func (f *APIFlags) bind(fs *flag.FlagSet) {
	d := policy.DefaultBands()
	fs.StringVar(&f.NSXAPI, "nsx-api", auto.ModeAuto, "The NSX API to program the DFW through: auto (the one NCP uses for this cluster: Policy when its pod ports are Policy segment ports, Manager when they are only Manager logical ports), policy (NSX Policy API, /policy/api/v1; NSX 3.x, 4.x and 9) or manager (NSX-T Manager API, /api/v1; not served by NSX 9).")
	fs.StringVar(&f.PolicyDomain, "nsx-policy-domain", nsxclient.DefaultDomain, "Policy API: the domain holding microseg's groups and security policies (it must exist).")
	fs.StringVar(&f.SecurityBand, "nsx-policy-security-band", d.Security.String(), "Policy API: sequence numbers of the Security tier's policies, in the Environment category (first-last). The 100 numbers below it hold the guard policies of a change too large for one call. Pick a range no other tool uses in that category.")
	fs.StringVar(&f.DeveloperBand, "nsx-policy-developer-band", d.Developer.String(), "Policy API: sequence numbers of the NetworkPolicies' policies, in the Application category (first-last), before the baseline band.")
	fs.StringVar(&f.BaselineBand, "nsx-policy-baseline-band", d.Baseline.String(), "Policy API: sequence numbers of the Baseline tier's policies, in the Application category (first-last), after the developer band.")
}

// options turns the flags into Options.NSXAPI and Options.Policy.
func (f *APIFlags) options(o *Options) error {
	switch f.NSXAPI {
	case auto.ModeAuto, auto.ModePolicy, auto.ModeManager:
	default:
		return fmt.Errorf("--nsx-api %q: use auto, policy or manager", f.NSXAPI)
	}
	var bands policy.Bands
	var errs []error
	for _, b := range []struct {
		flag, value string
		into        *policy.Band
	}{{"--nsx-policy-security-band", f.SecurityBand, &bands.Security}, {"--nsx-policy-developer-band", f.DeveloperBand, &bands.Developer},
		{"--nsx-policy-baseline-band", f.BaselineBand, &bands.Baseline}} {
		band, err := policy.ParseBand(b.value)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", b.flag, err))
		}
		*b.into = band
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	if err := bands.Validate(); err != nil {
		return fmt.Errorf("--nsx-policy-*-band: %w", err)
	}
	if f.PolicyDomain == "" {
		return errors.New("--nsx-policy-domain must not be empty (the default domain is \"default\")")
	}
	o.NSXAPI = f.NSXAPI
	o.Policy = policy.Config{Domain: f.PolicyDomain, Bands: bands}
	return nil
}
