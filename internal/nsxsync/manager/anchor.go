package manager

import (
	"fmt"
	"strings"

	"github.com/microseg/microseg/internal/nsxsync"
	"github.com/microseg/microseg/internal/ownership"
	"github.com/microseg/microseg/internal/plan"
	"github.com/microseg/microseg/nsxclient"
)

// resolveAnchor turns the --anchor-section value into a section id: a section with that id, else
// the one section with that display name. It looks in the sections the read already listed, so
// the anchor follows a section that was re-created under the same name, at no extra cost.
func resolveAnchor(sections []plan.SectionState, want, clusterID string) (string, error) {
	if want == "" {
		return "", nil
	}
	var byName []*nsxclient.FirewallSection
	for i := range sections {
		s := &sections[i].Section
		if s.ID == want {
			byName = []*nsxclient.FirewallSection{s}
			break
		}
		if s.DisplayName == want {
			byName = append(byName, s)
		}
	}
	switch len(byName) {
	case 1:
		s := byName[0]
		switch {
		case s.IsDefault:
			return "", &nsxsync.ConfigError{Msg: fmt.Sprintf("the anchor section %q (--anchor-section) is NSX's default section, which always stays last: name a section above it", want)}
		case ownership.Owned(s.Tags, clusterID):
			return "", &nsxsync.ConfigError{Msg: fmt.Sprintf("the anchor section %q (--anchor-section) is one of microseg's own sections: name a section microseg does not manage", want)}
		}
		return s.ID, nil
	case 0:
		return "", &nsxsync.ConfigError{Msg: fmt.Sprintf("the anchor section %q (--anchor-section) is neither the id nor the display name of a LAYER3 firewall section in NSX: create that section, or correct the flag", want)}
	}
	ids := make([]string, len(byName))
	for i, s := range byName {
		ids[i] = s.ID
	}
	return "", &nsxsync.ConfigError{Msg: fmt.Sprintf("the anchor section %q (--anchor-section) names %d firewall sections (ids %s): pass the id of the one microseg's sections go directly below", want, len(ids), strings.Join(ids, ", "))}
}
