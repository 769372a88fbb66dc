package ports

import (
	"slices"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	cases := []struct {
		in   []string
		want string
	}{
		{nil, ""},
		{[]string{"80"}, "80/TCP"},
		{[]string{"443/udp"}, "443/UDP"},
		{[]string{"80,443/UDP", "53/UDP,53"}, "53/TCP 53/UDP 80/TCP 443/UDP"},
		{[]string{" 8080 , 80 ,,"}, "80/TCP 8080/TCP"},
		{[]string{"8000-8003/SCTP"}, "8000/SCTP 8001/SCTP 8002/SCTP 8003/SCTP"},
		{[]string{"7-7"}, "7/TCP"},
		{[]string{"80/SCTP,80/UDP,80/TCP,80"}, "80/TCP 80/UDP 80/SCTP"},
		{[]string{"1,65535"}, "1/TCP 65535/TCP"},
	}
	for _, c := range cases {
		got, err := Parse(c.in)
		if err != nil {
			t.Errorf("Parse(%q): %v", c.in, err)
			continue
		}
		if s := portsString(got); s != c.want {
			t.Errorf("Parse(%q) = %q, want %q", c.in, s, c.want)
		}
	}
}

func TestParsePortsErrors(t *testing.T) {
	cases := map[string]string{
		"0":             "not a port number",
		"65536":         "not a port number",
		"http":          "not a port number",
		"80/ICMP":       "not TCP, UDP or SCTP",
		"90-80":         "write 80-90",
		"1-65535":       "more than the 256",
		"80-":           "not a port number",
		"1-200,300-400": "more than 256 ports",
	}
	for in, want := range cases {
		_, err := Parse([]string{in})
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Parse(%q) error %v, want one containing %q", in, err, want)
		}
	}
}

func portsString(ps []Port) string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = p.String()
	}
	return strings.Join(s, " ")
}

func TestSortPortsOrdersByNumberThenProtocol(t *testing.T) {
	got := Sort([]Port{{"SCTP", 9}, {"UDP", 9}, {"TCP", 10}, {"TCP", 9}, {"UDP", 9}})
	want := []Port{{"TCP", 9}, {"UDP", 9}, {"SCTP", 9}, {"TCP", 10}}
	if !slices.Equal(got, want) {
		t.Errorf("sortPorts = %v, want %v", got, want)
	}
}
