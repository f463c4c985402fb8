package config

// Security config spellings.
const (
	SecurityHMAC = "HMAC"
	HMACSHA256   = "HMAC_SHA_256"
	HMACSHA1     = "HMAC_SHA_1"
)

// eventTypes are the Calls API event types a configuration may subscribe to
// (DESIGN §5).
func eventTypes() []string {
	return []string{
		"CALL_RECEIVED", "CALL_STARTED", "CALL_RINGING", "CALL_PRE_ESTABLISHED",
		"CALL_ESTABLISHED", "CALL_FINISHED", "CALL_FAILED", "DIALOG_CREATED",
		"DIALOG_ESTABLISHED", "DIALOG_FAILED", "DIALOG_FINISHED", "DTMF_CAPTURED",
		"PLAY_FINISHED", "MEDIA_STREAM_STARTED", "MEDIA_STREAM_FINISHED",
		"MEDIA_STREAM_FAILED", "ERROR",
	}
}

func (v *validator) callsConfigurations() {
	seen := map[string]fieldPath{}
	for i := range v.c.CallsConfigurations {
		p := fieldPath("callsConfigurations").index(i)
		a := &v.c.CallsConfigurations[i]
		v.id(p.key("id"), a.ID, seen)
		if a.Webhook != nil {
			v.webhook(p.key("webhook"), a.Webhook)
		}
		events := eventTypes()
		for j, e := range a.Events {
			v.enum(p.key("events").index(j), e, events...)
		}
	}
}

func (v *validator) webhook(p fieldPath, w *Webhook) {
	if w.URL == "" {
		v.add(p.key("url"), "required: http:// or https://")
	} else if err := checkHTTPURL(w.URL); err != nil {
		v.add(p.key("url"), "%v", err)
	}
	if w.SecurityConfig != nil {
		v.securityConfig(p.key("securityConfig"), w.SecurityConfig)
	}
}

func (v *validator) securityConfig(p fieldPath, s *SecurityConfig) {
	v.requiredEnum(p.key("type"), s.Type, SecurityHMAC)
	if s.SecretKey == "" {
		v.add(p.key("secretKey"), "required")
	}
	v.enum(p.key("algorithm"), s.Algorithm, HMACSHA256, HMACSHA1)
}

func (v *validator) scripts() {
	seen := map[string]fieldPath{}
	for i := range v.c.Scripts {
		p := fieldPath("scripts").index(i)
		s := &v.c.Scripts[i]
		v.id(p.key("id"), s.ID, seen)
		switch {
		case s.File == "" && s.Source == "":
			v.add(p, "needs file or source")
		case s.File != "" && s.Source != "":
			v.add(p.key("source"), "set file or source, not both")
		}
	}
}
