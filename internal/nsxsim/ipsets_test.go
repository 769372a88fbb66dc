package nsxsim

import (
	"net/http"
	"slices"
	"testing"

	"github.com/microseg/microseg/nsxclient"
)

const ipsetsPath = apiPrefix + "/ip-sets"

func TestIPSetCRUDAndActions(t *testing.T) {
	e := newEnv(t)
	set := e.ipset("set", "10.0.0.1", "10.0.1.0/24", "10.0.2.1-10.0.2.9")
	path := ipsetsPath + "/" + set.ID
	var got nsxclient.IPSet
	e.call("GET", path, nil, http.StatusOK, &got)
	if got.ResourceType != "IPSet" || len(got.IPAddresses) != 3 {
		t.Fatalf("GET %+v", got)
	}
	var el nsxclient.IPAddressElement
	e.call("POST", path+"?action=add_ip", map[string]any{"ip_address": "10.9.9.9"}, http.StatusCreated, &el)
	if el.IPAddress != "10.9.9.9" {
		t.Fatalf("add_ip echoed %+v", el)
	}
	e.fails("POST", path+"?action=add_ip", map[string]any{"ip_address": "fd00::1"}, 400, nsxclient.ErrCodeFieldValidation)
	e.fails("POST", path+"?action=ADD_IP", map[string]any{"ip_address": "10.0.0.2"}, 400, errCodeBadRequestURI)
	e.call("POST", path+"?action=remove_ip", map[string]any{"ip_address": "10.0.0.1"}, http.StatusCreated, nil)
	e.call("GET", path, nil, http.StatusOK, &got)
	if !slices.Equal(got.IPAddresses, []string{"10.0.1.0/24", "10.0.2.1-10.0.2.9", "10.9.9.9"}) || got.Revision != 2 {
		t.Fatalf("after add/remove: %+v", got)
	}
	var members listPage[nsxclient.IPAddressElement]
	e.call("GET", path+"/members", nil, http.StatusOK, &members)
	if len(members.Results) != 3 {
		t.Fatalf("members %+v", members)
	}
	upd := map[string]any{"display_name": "v6", "ip_addresses": []string{"fd00::/64"}, "_revision": got.Revision}
	e.call("PUT", path, upd, http.StatusOK, &got)
	if got.Revision != 3 || got.DisplayName != "v6" {
		t.Fatalf("PUT %+v", got)
	}
	e.fails("PUT", path, upd, http.StatusPreconditionFailed, 0)

	var list listPage[nsxclient.IPSet]
	e.call("GET", ipsetsPath, nil, http.StatusOK, &list)
	if len(list.Results) != 1 || *list.ResultCount != 1 {
		t.Fatalf("list %+v", list)
	}
	e.call("DELETE", path, nil, http.StatusOK, nil)
	e.fails("DELETE", path, nil, 404, nsxclient.ErrCodeNotFound)
}
