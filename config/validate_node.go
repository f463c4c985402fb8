package config

// nodeSettings checks node, sip, dns, media, api and cluster.
func (v *validator) nodeSettings() {
	v.sip()
	v.dns()
	v.media()
	v.api()
	v.cluster()
}

func (v *validator) sip() {
	s := &v.c.SIP
	p := fieldPath("sip")
	for i, l := range s.Listen {
		scheme, err := checkListen(l)
		switch {
		case err != nil:
			v.add(p.key("listen").index(i), "%v", err)
		case scheme == "tls" && (s.TLS.Cert == "" || s.TLS.Key == ""):
			v.add(p.key("listen").index(i), "a tls:// listener needs sip.tls.cert and sip.tls.key")
		}
	}
	if s.Advertise != "" {
		if err := checkHost(s.Advertise); err != nil {
			v.add(p.key("advertise"), "%v", err)
		}
	}
	if s.DrainTimeout < 0 {
		v.add(p.key("drainTimeout"), "%s is negative", s.DrainTimeout)
	}
	if s.SourceRateLimit != nil && *s.SourceRateLimit < 0 {
		v.add(p.key("sourceRateLimit"), "%d is negative (0 means no limit)", *s.SourceRateLimit)
	}
}

func (v *validator) dns() {
	p := fieldPath("dns").key("servers")
	for i, s := range v.c.DNS.Servers {
		if err := checkHostPort(s, dialAddr); err != nil {
			v.add(p.index(i), "%v", err)
		}
	}
}

func (v *validator) media() {
	m := &v.c.Media
	p := fieldPath("media")
	if m.RTPPorts != "" {
		if err := checkPortRange(m.RTPPorts); err != nil {
			v.add(p.key("rtpPorts"), "%v", err)
		}
	}
	if m.Advertise != "" {
		if err := checkHost(m.Advertise); err != nil {
			v.add(p.key("advertise"), "%v", err)
		}
	}
}

func (v *validator) api() {
	a := &v.c.API
	p := fieldPath("api")
	if a.Listen != "" {
		if err := checkHostPort(a.Listen, listenAddr); err != nil {
			v.add(p.key("listen"), "%v", err)
		}
	}
	for i, t := range a.Tokens {
		if t == "" {
			v.add(p.key("tokens").index(i), "empty token")
		}
	}
}

func (v *validator) cluster() {
	c := &v.c.Cluster
	p := fieldPath("cluster")
	if c.RaftListen != "" {
		if err := checkHostPort(c.RaftListen, listenAddr); err != nil {
			v.add(p.key("raftListen"), "%v", err)
		}
	}
	if len(c.Peers) == 0 {
		return
	}
	if v.c.Node.ID == "" {
		v.add(fieldPath("node").key("id"), "required when cluster.peers is set")
	}
	if c.RaftListen == "" {
		v.add(p.key("raftListen"), "required when cluster.peers is set")
	}
	seen := map[string]fieldPath{}
	for i := range c.Peers {
		v.peer(p.key("peers").index(i), &c.Peers[i], seen)
	}
}

func (v *validator) peer(p fieldPath, peer *Peer, seen map[string]fieldPath) {
	if self := v.c.Node.ID; self != "" && peer.ID == self {
		v.add(p.key("id"), "%q is this node's own id (node.id); peers lists the other nodes", peer.ID)
	} else {
		v.id(p.key("id"), peer.ID, seen)
	}
	for _, a := range []struct {
		key, addr string
	}{{"raft", peer.Raft}, {"api", peer.API}} {
		if a.addr == "" {
			v.add(p.key(a.key), "required: host:port")
		} else if err := checkHostPort(a.addr, dialAddr); err != nil {
			v.add(p.key(a.key), "%v", err)
		}
	}
}
