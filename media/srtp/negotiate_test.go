package srtp

import (
	"bytes"
	"errors"
	"reflect"
	"testing"
)

// zeros is a deterministic "random" source: Negotiate stays a pure function.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

func TestNegotiate(t *testing.T) {
	cm80 := "1 AES_CM_128_HMAC_SHA1_80 inline:" + b64(30, 1)
	cm32 := "2 AES_CM_128_HMAC_SHA1_32 inline:" + b64(30, 2)
	gcm := "3 AEAD_AES_128_GCM inline:" + b64(28, 3)
	all := []Suite{AEADAES128GCM, AESCM128HMACSHA1_80, AESCM128HMACSHA1_32}
	tests := []struct {
		name      string
		offered   []string
		supported []Suite
		wantTag   int
		wantSuite Suite
		wantParam []string
		wantErr   error
	}{
		{"first supported wins", []string{cm80, cm32, gcm}, all, 1, AESCM128HMACSHA1_80, nil, nil},
		{"offer order, not ours", []string{gcm, cm80}, []Suite{AESCM128HMACSHA1_80, AEADAES128GCM}, 3, AEADAES128GCM, nil, nil},
		{"skips unsupported suite", []string{gcm, cm32}, []Suite{AESCM128HMACSHA1_32}, 2, AESCM128HMACSHA1_32, nil, nil},
		{"skips unknown suite", []string{"1 F8_128_HMAC_SHA1_80 inline:" + b64(30, 1), cm32}, all, 2, AESCM128HMACSHA1_32, nil, nil},
		{"skips malformed", []string{"1 AES_CM_128_HMAC_SHA1_80 inline:short", gcm}, all, 3, AEADAES128GCM, nil, nil},
		{"skips KDR", []string{cm80 + " KDR=1", cm32}, all, 2, AESCM128HMACSHA1_32, nil, nil},
		{"skips FEC", []string{cm80 + " FEC_ORDER=SRTP_FEC", gcm}, all, 3, AEADAES128GCM, nil, nil},
		{"skips UNAUTHENTICATED_SRTP", []string{cm80 + " UNAUTHENTICATED_SRTP", gcm}, all, 3, AEADAES128GCM, nil, nil},
		{"skips unknown session param", []string{cm80 + " FOO=1", gcm}, all, 3, AEADAES128GCM, nil, nil},
		{"echoes UNENCRYPTED, not WSH", []string{cm80 + " WSH=256 UNENCRYPTED_SRTCP UNENCRYPTED_SRTP"}, all, 1, AESCM128HMACSHA1_80,
			[]string{"UNENCRYPTED_SRTCP", "UNENCRYPTED_SRTP"}, nil},
		{"accepts MKI", []string{rfc4568Examples[0]}, all, 1, AESCM128HMACSHA1_80, nil, nil},
		{"nothing in common", []string{gcm}, []Suite{AESCM128HMACSHA1_80}, 0, 0, nil, ErrNoCommonSuite},
		{"nothing offered", nil, all, 0, 0, nil, ErrNoCommonSuite},
		{"nothing supported", []string{cm80}, nil, 0, 0, nil, ErrNoCommonSuite},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			remote, local, err := Negotiate(tt.offered, tt.supported, zeros{})
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if remote.Tag != tt.wantTag || remote.Suite != tt.wantSuite {
				t.Fatalf("remote = %d %v, want %d %v", remote.Tag, remote.Suite, tt.wantTag, tt.wantSuite)
			}
			if local.Tag != remote.Tag || local.Suite != remote.Suite || len(local.Keys) != 1 {
				t.Fatalf("local %+v does not answer remote %+v", local, remote)
			}
			k := local.Keys[0]
			if !bytes.Equal(k.Key, make([]byte, tt.wantSuite.KeyLen())) || k.MKILen != 0 || k.Lifetime != 0 {
				t.Fatalf("local key %+v not fresh from rand", k)
			}
			if !reflect.DeepEqual(local.Params, tt.wantParam) {
				t.Fatalf("local params %q, want %q", local.Params, tt.wantParam)
			}
			if _, err := NewSession(local, remote); err != nil {
				t.Fatalf("NewSession: %v", err)
			}
		})
	}
}

func TestNegotiateFreshKeys(t *testing.T) {
	offer := []string{"1 AES_CM_128_HMAC_SHA1_80 inline:" + b64(30, 1)}
	_, a, err := Negotiate(offer, AllSuites, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, b, _ := Negotiate(offer, AllSuites, nil)
	if bytes.Equal(a.Keys[0].Key, b.Keys[0].Key) {
		t.Fatal("two answers share a key")
	}
}

func TestNegotiateExplains(t *testing.T) {
	_, _, err := Negotiate([]string{"1 AES_CM_128_HMAC_SHA1_80 inline:" + b64(30, 1) + " KDR=3"}, AllSuites, nil)
	if !errors.Is(err, ErrNoCommonSuite) || !bytes.Contains([]byte(err.Error()), []byte("KDR=3")) {
		t.Fatalf("err = %v", err)
	}
}

func TestUsable(t *testing.T) {
	good := Crypto{Tag: 1, Suite: AESCM128HMACSHA1_80, Keys: []Key{{Key: make([]byte, 16), Salt: make([]byte, 14)}}}
	if err := Usable(good); err != nil {
		t.Fatal(err)
	}
	bad := []Crypto{
		{Suite: 0, Keys: good.Keys},
		{Suite: AESCM128HMACSHA1_80},
		{Suite: AEADAES128GCM, Keys: good.Keys},
	}
	for _, c := range bad {
		if err := Usable(c); err == nil {
			t.Errorf("Usable(%+v) = nil", c)
		}
		if _, err := NewEncrypter(c); err == nil {
			t.Errorf("NewEncrypter(%+v) = nil", c)
		}
		if _, err := NewDecrypter(c); err == nil {
			t.Errorf("NewDecrypter(%+v) = nil", c)
		}
	}
}
