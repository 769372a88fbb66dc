package nsxsim

import (
	"net/http"
	"testing"

	"github.com/microseg/microseg/nsxclient"
)

const portsPath = apiPrefix + "/logical-ports"

func TestLogicalPortCRUD(t *testing.T) {
	e := newEnv(t)
	p := e.port("pod-1", "10.0.0.5", "ncp/pod=pod-1", "app=web")
	e.call("POST", portsPath, map[string]any{"logical_switch_id": "ls-2", "admin_state": "DOWN"}, http.StatusCreated, nil)
	if p.ResourceType != "LogicalPort" || p.Attachment.AttachmentType != "VIF" || len(p.Tags) != 2 {
		t.Fatalf("created %+v", p)
	}
	path := portsPath + "/" + p.ID
	var list listPage[nsxclient.LogicalPort]
	e.call("GET", portsPath+"?container_ports_only=true", nil, http.StatusOK, &list)
	if len(list.Results) != 1 || list.Results[0].ID != p.ID {
		t.Fatalf("container_ports_only: %+v", list.Results)
	}
	e.call("GET", portsPath+"?logical_switch_id=ls-2", nil, http.StatusOK, &list)
	if len(list.Results) != 1 || list.Results[0].LogicalSwitchID != "ls-2" {
		t.Fatalf("logical_switch_id filter: %+v", list.Results)
	}
	upd := map[string]any{"logical_switch_id": "ls-1", "admin_state": "UP", "_revision": p.Revision,
		"tags": []map[string]string{{"scope": "app", "tag": "db"}}, "attachment": p.Attachment}
	var got nsxclient.LogicalPort
	e.call("PUT", path, upd, http.StatusOK, &got)
	if got.Revision != 1 || got.Tags[0].Tag != "db" {
		t.Fatalf("PUT %+v", got)
	}
	e.fails("PUT", path, upd, http.StatusPreconditionFailed, 0)
	e.fails("DELETE", path, nil, 400, nsxclient.ErrCodeResourceInUse) // attached
	e.call("DELETE", path+"?detach=true", nil, http.StatusOK, nil)
	e.fails("GET", path, nil, 404, nsxclient.ErrCodeNotFound)
}
