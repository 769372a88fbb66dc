package nsxsim

import (
	"encoding/json"
	"io"
	"net/http"
)

// simPrefix is where the simulator-private control API lives. It is not part of NSX. It needs no
// NSX authentication unless Options.ProtectSimAPI is set, and faults, rate limits and the cost
// model never apply to it:
//
//	GET    /sim/v1/stats                     Stats as JSON
//	DELETE /sim/v1/stats                     zero the counters
//	GET    /sim/v1/faults                    the Faults in force (with fired counts)
//	PUT    /sim/v1/faults                    replace them with the Faults in the body
//	POST   /sim/v1/faults                    add the FaultRule in the body
//	POST   /sim/v1/faults/concurrent-edits   add the ConcurrentEdit in the body
//	POST   /sim/v1/faults/realization-errors add the RealizationFault in the body
//	DELETE /sim/v1/faults                    remove every fault
//	POST   /sim/v1/reset                     back to the initial state (objects, faults, stats)
//	POST   /sim/v1/traceflow                 TraceflowRequest in, TraceflowResponse out
const simPrefix = "/sim/v1/"

func (s *Server) serveSim(w http.ResponseWriter, r *http.Request) {
	if s.opts.ProtectSimAPI {
		if _, err := s.authenticate(r); err != nil {
			writeReply(w, fail(err))
			return
		}
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBodyBytes))
	if err != nil {
		writeSimError(w, http.StatusBadRequest, err.Error())
		return
	}
	route := r.Method + " " + r.URL.Path
	switch route {
	case "GET /sim/v1/stats":
		writeSimJSON(w, s.Stats())
	case "DELETE /sim/v1/stats":
		s.ResetStats()
		writeSimJSON(w, s.Stats())
	case "GET /sim/v1/faults":
		writeSimJSON(w, s.CurrentFaults())
	case "PUT /sim/v1/faults":
		var f Faults
		if simDecode(w, body, &f) {
			s.SetFaults(f)
			writeSimJSON(w, s.CurrentFaults())
		}
	case "POST /sim/v1/faults":
		var f FaultRule
		if simDecode(w, body, &f) {
			s.InjectFault(f)
			writeSimJSON(w, s.CurrentFaults())
		}
	case "POST /sim/v1/faults/concurrent-edits":
		var e ConcurrentEdit
		if simDecode(w, body, &e) {
			s.InjectConcurrentEdit(e)
			writeSimJSON(w, s.CurrentFaults())
		}
	case "POST /sim/v1/faults/realization-errors":
		var f RealizationFault
		if simDecode(w, body, &f) {
			s.InjectRealizationError(f)
			writeSimJSON(w, s.CurrentFaults())
		}
	case "DELETE /sim/v1/faults":
		s.ClearFaults()
		writeSimJSON(w, s.CurrentFaults())
	case "POST /sim/v1/reset":
		s.Reset()
		w.WriteHeader(http.StatusNoContent)
	case "POST /sim/v1/traceflow":
		var req TraceflowRequest
		if !simDecode(w, body, &req) {
			return
		}
		res, err := s.Traceflow(r.Context(), flowFromRequest(req))
		if err != nil {
			writeSimError(w, http.StatusBadRequest, err.Error())
			return
		}
		writeSimJSON(w, responseFromResult(res))
	default:
		writeSimError(w, http.StatusNotFound, "no simulator endpoint "+route)
	}
}

func simDecode(w http.ResponseWriter, body []byte, v any) bool {
	if err := json.Unmarshal(body, v); err != nil {
		writeSimError(w, http.StatusBadRequest, "invalid JSON body: "+err.Error())
		return false
	}
	return true
}

func writeSimJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

func writeSimError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": msg})
}
