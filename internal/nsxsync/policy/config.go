package policy

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/microseg/microseg/internal/ir"
	"github.com/microseg/microseg/nsxclient"
)

// API is the Backend.API of this backend.
const API = "policy"

// Band is a range of security policy sequence_numbers, both ends included. NSX orders the
// policies of a category by sequence_number (lower first) across every domain and every user,
// so microseg keeps its policies inside bands that other tools are unlikely to use.
type Band struct{ Lo, Hi int64 }

// Size is the number of sequence numbers in the band.
func (b Band) Size() int64 { return b.Hi - b.Lo + 1 }

func (b Band) String() string { return fmt.Sprintf("%d-%d", b.Lo, b.Hi) }

// Contains reports whether n lies in the band.
func (b Band) Contains(n int64) bool { return n >= b.Lo && n <= b.Hi }

// ParseBand reads "lo-hi".
func ParseBand(s string) (Band, error) {
	lo, hi, ok := strings.Cut(strings.TrimSpace(s), "-")
	if !ok {
		return Band{}, fmt.Errorf("sequence band %q: write it as <first>-<last>, e.g. 100000-199999", s)
	}
	l, err1 := strconv.ParseInt(strings.TrimSpace(lo), 10, 64)
	h, err2 := strconv.ParseInt(strings.TrimSpace(hi), 10, 64)
	if err1 != nil || err2 != nil {
		return Band{}, fmt.Errorf("sequence band %q: both ends must be whole numbers", s)
	}
	return Band{Lo: l, Hi: h}, nil
}

// Bands are where each tier's policies go. The Security tier is in the Environment category,
// the developer tier and then the Baseline tier in the Application category.
type Bands struct {
	Security  Band
	Developer Band
	Baseline  Band
}

// DefaultBands keep microseg away from the numbers other tools use: nsx-operator places its
// policies at 2010 and 2090 (with no category) and CR priorities (small numbers); policies
// created in the NSX UI and by terraform examples start near 0; NSX's default policy sits at
// 999999. The bands are wide enough for the largest model the compiler emits with gaps, so
// that inserting a policy rarely renumbers others.
func DefaultBands() Bands {
	return Bands{
		Security:  Band{Lo: 100000, Hi: 199999},
		Developer: Band{Lo: 200000, Hi: 399999},
		Baseline:  Band{Lo: 400000, Hi: 499999},
	}
}

// Validate checks that the bands are usable: inside NSX's 0..999999, non-empty, and, in the
// Application category, the developer band before and apart from the Baseline band.
func (b Bands) Validate() error {
	var errs []error
	for _, nb := range []struct {
		name string
		b    Band
	}{{"security", b.Security}, {"developer", b.Developer}, {"baseline", b.Baseline}} {
		switch {
		case nb.b.Lo < 0 || nb.b.Hi > nsxclient.MaxSequenceNumber:
			errs = append(errs, fmt.Errorf("the %s band %s leaves NSX's sequence numbers 0-%d", nb.name, nb.b, nsxclient.MaxSequenceNumber))
		case nb.b.Size() < minBandSize:
			errs = append(errs, fmt.Errorf("the %s band %s is smaller than %d numbers", nb.name, nb.b, minBandSize))
		}
	}
	if b.Developer.Hi >= b.Baseline.Lo {
		errs = append(errs, fmt.Errorf("the developer band %s must end before the baseline band %s starts: both are in the Application category, and NetworkPolicies come before the Baseline tier", b.Developer, b.Baseline))
	}
	if b.Security.Lo < guardRoom {
		errs = append(errs, fmt.Errorf("the security band %s must start at %d or above: the numbers just below it hold the guard policies of a change that takes more than one call", b.Security, guardRoom))
	}
	return errors.Join(errs...)
}

// minBandSize is the smallest band accepted.
const minBandSize = 100

// guardRoom is how many sequence numbers below the security band stay free for guard policies.
const guardRoom = 100

// Config is the backend's configuration.
type Config struct {
	// ClusterID is the cluster whose objects microseg owns (required).
	ClusterID string
	// Domain holds microseg's groups and security policies (default "default"); it must exist.
	Domain string
	// Bands place the tiers' policies (zero: DefaultBands).
	Bands Bands
	// MaxObjectsPerCall is how many objects one hierarchical PATCH carries (default 5000, NSX's
	// limit on a local manager). A change that fits is one write; a larger one is split under a
	// guard (docs/architecture.md, "The Policy backend").
	MaxObjectsPerCall int
	// MaxRulesPerPolicy bounds the rules of a guard policy (default ir.DefaultLimits'
	// MaxRulesPerSection); model policies are sized by the compiler.
	MaxRulesPerPolicy int
	// VerifyWindow is how long an owned policy may go without being read in full by incremental
	// reads (default 1h): whether NSX bumps a policy's _revision when one of its rules changes is
	// not documented, so every policy is re-read within this window whatever its revision says.
	VerifyWindow time.Duration
	// RealizationTimeout bounds the wait for NSX to realize what a sync wrote (default 2m);
	// RealizationPoll is the interval between checks (default 1s).
	RealizationTimeout, RealizationPoll time.Duration
	// Now is the clock (default time.Now); tests move it.
	Now func() time.Time
}

func (c Config) withDefaults() Config {
	if c.Domain == "" {
		c.Domain = nsxclient.DefaultDomain
	}
	if c.Bands == (Bands{}) {
		c.Bands = DefaultBands()
	}
	if c.MaxObjectsPerCall <= 0 {
		c.MaxObjectsPerCall = nsxclient.MaxHierarchicalObjects
	}
	if c.MaxRulesPerPolicy <= 0 {
		c.MaxRulesPerPolicy = ir.DefaultLimits().MaxRulesPerSection
	}
	if c.VerifyWindow <= 0 {
		c.VerifyWindow = time.Hour
	}
	if c.RealizationTimeout <= 0 {
		c.RealizationTimeout = 2 * time.Minute
	}
	if c.RealizationPoll <= 0 {
		c.RealizationPoll = time.Second
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}

func (c Config) validate() error {
	switch {
	case c.ClusterID == "":
		return errors.New("policy backend: the cluster id is required")
	case c.MaxObjectsPerCall < 2:
		return fmt.Errorf("policy backend: MaxObjectsPerCall %d is below 2", c.MaxObjectsPerCall)
	}
	if err := c.Bands.Validate(); err != nil {
		return fmt.Errorf("policy backend: %w", err)
	}
	return nil
}
