package config

func (v *validator) numbers() {
	seen := map[string]fieldPath{}
	for i := range v.c.Numbers {
		p := fieldPath("numbers").index(i)
		n := &v.c.Numbers[i]
		np := p.key("number")
		if v.phoneNumber(np, n.Number) {
			if first, dup := seen[n.Number]; dup {
				v.add(np, "duplicate number %q (also %s)", n.Number, first)
			} else {
				seen[n.Number] = np
			}
		}
		v.action(p.key("action"), &n.Action)
	}
}

func (v *validator) action(p fieldPath, a *NumberAction) {
	if !v.requiredEnum(p.key("type"), a.Type, ActionForwardToCallRouting, ActionForwardToSubscription, ActionForwardToPhone, ActionNoAction) {
		return
	}
	by := a.Type
	if a.Type == ActionForwardToCallRouting {
		v.ref(p.key("routeId"), a.RouteID, v.routeIDs, "routes")
	} else {
		v.unused(p.key("routeId"), a.RouteID != "", by)
	}
	if a.Type == ActionForwardToSubscription {
		if a.CallsConfigurationID == "" {
			v.add(p.key("callsConfigurationId"), "required for %s: a callsConfigurations id", by)
		}
		v.ref(p.key("callsConfigurationId"), a.CallsConfigurationID, v.appIDs, "callsConfigurations")
	} else {
		v.unused(p.key("callsConfigurationId"), a.CallsConfigurationID != "", by)
	}
	if a.Type == ActionForwardToPhone {
		v.phoneNumber(p.key("phoneNumber"), a.PhoneNumber)
		v.viaTrunks(p.key("viaSipTrunkIds"), a.ViaSIPTrunkIDs)
	} else {
		v.unused(p.key("phoneNumber"), a.PhoneNumber != "", by)
		v.unused(p.key("viaSipTrunkIds"), len(a.ViaSIPTrunkIDs) > 0, by)
	}
}
