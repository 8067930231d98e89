package msg

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/mtibben/confusables"
	"golang.org/x/text/secure/precis"
)

// Names (usernames and channels) follow PRECIS (RFC 8264), profile
// UsernameCasePreserved (RFC 8265): letters and digits of any script,
// combining marks included; no spaces, no invisible, default-ignorable or
// compatibility characters (𝐚𝐧𝐧); width folded (ａｎｎ is ann) and NFC
// (a decomposed ễ is composed). On top of it, zmqchat's own rules: of
// ASCII punctuation only _ - . and ' (O'Brien), so that nothing in a name
// can look like the ": " after it; the letters of one script (or of the
// mixes UTS #39 calls highly restrictive, such as Han with Hiragana), so
// that Cyrillic а cannot pass for Latin a; and no channel may look like
// ALL but ALL itself.

// NormalizeName checks a username or channel name and returns the form that
// is stored and published; what names it in reasons ("username",
// "channel").
func NormalizeName(what, s string) (string, error) {
	if s == "" {
		return "", errorf("%s is empty: use 1 to %d letters or digits (and _ - . ')", what, MaxNameLen)
	}
	if !utf8.ValidString(s) {
		return "", errorf("%s is not valid UTF-8", what)
	}
	if plainASCII(s) { // their own normal form, of one script: the common case, made cheap
		if n := len(s); n > MaxNameLen {
			return "", errorf("%s is %d characters long, the limit is %d", what, n, MaxNameLen)
		}
		return s, nil
	}
	norm, err := precis.UsernameCasePreserved.String(s)
	if err != nil {
		return "", errorf("%s %q %s", what, s, refusedRune(s))
	}
	if n := utf8.RuneCountInString(norm); n > MaxNameLen {
		return "", errorf("%s is %d characters long, the limit is %d", what, n, MaxNameLen)
	}
	for _, r := range norm {
		if r < utf8.RuneSelf && !isNameASCII(byte(r)) {
			return "", errorf("%s %q has %q: use letters, digits and _ - . ' only", what, s, r)
		}
	}
	if scripts := scriptsOf(norm); !oneScript(scripts) {
		return "", errorf("%s %q mixes scripts (%s): a name is written in one, so that look-alike letters cannot pass for others", what, s, strings.Join(scripts, ", "))
	}
	return norm, nil
}

// CheckName checks that s is a valid name already in its normal form.
func CheckName(what, s string) error {
	norm, err := NormalizeName(what, s)
	if err == nil && norm != s {
		err = errorf("%s %q is not in its normal form, %q", what, s, norm)
	}
	return err
}

// NormalizeChannel is NormalizeName for a channel, which also may not look
// like ALL (in case, width or look-alike letters) without being ALL.
func NormalizeChannel(s string) (string, error) {
	norm, err := NormalizeName("channel", s)
	if err == nil && norm != AllChannel && likeALL(norm) {
		err = errorf("channel %q looks like %s, the read-only channel that shows every channel: pick another name", s, AllChannel)
	}
	return norm, err
}

var allSkeleton = confusables.Skeleton("all")

// likeALL reports whether name reads as ALL: the same letters in another
// case, or letters that look the same (a confusables skeleton, UTS #39).
// A name of more than three characters cannot: every character of a name
// has a skeleton of its own (PRECIS has refused those that have none).
func likeALL(name string) bool {
	switch {
	case utf8.RuneCountInString(name) > 3:
		return false
	case plainASCII(name):
		return asciiLikeALL(name)
	}
	return strings.EqualFold(name, AllChannel) || confusables.Skeleton(strings.ToLower(name)) == allSkeleton ||
		strings.ToLower(confusables.Skeleton(name)) == allSkeleton
}

// asciiSkeletons are the skeletons of the ASCII characters.
var asciiSkeletons = func() (s [utf8.RuneSelf]string) {
	for c := range s {
		s[c] = confusables.Skeleton(string(rune(c)))
	}
	return s
}()

// asciiLikeALL is likeALL for a name of ASCII characters, without
// allocating, as every post's channel is checked: an ASCII name's
// skeleton is its characters' skeletons one after another.
func asciiLikeALL(name string) bool {
	return strings.EqualFold(name, AllChannel) || skeletonIs(name, true) || skeletonIs(name, false)
}

// skeletonIs reports whether the skeleton of name (lowered before, or
// after) is allSkeleton's.
func skeletonIs(name string, lowerFirst bool) bool {
	want := allSkeleton
	for i := 0; i < len(name); i++ {
		c := name[i]
		if lowerFirst && 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		sk := asciiSkeletons[c]
		if len(sk) > len(want) {
			return false
		}
		for j := 0; j < len(sk); j++ {
			d := sk[j]
			if !lowerFirst && 'A' <= d && d <= 'Z' {
				d += 'a' - 'A'
			}
			if d != want[j] {
				return false
			}
		}
		want = want[len(sk):]
	}
	return want == ""
}

func plainASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !isNameASCII(c) {
			return false
		}
	}
	return true
}

func isNameASCII(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-' || c == '.' || c == '\''
}

// refusedRune says which character PRECIS refused, for the reason.
func refusedRune(s string) string {
	for _, r := range s {
		switch {
		case unicode.IsSpace(r):
			return fmt.Sprintf("has a space (%U): a name is one word", r)
		case unicode.Is(unicode.Other_Default_Ignorable_Code_Point, r) || unicode.Is(unicode.Cf, r):
			return fmt.Sprintf("has %U, which is invisible", r)
		case unicode.IsControl(r):
			return fmt.Sprintf("has the control character %U", r)
		}
	}
	for _, r := range s {
		if _, err := precis.UsernameCasePreserved.String(string(r)); err != nil && !strings.Contains(err.Error(), "bidi") {
			return fmt.Sprintf("has %q (%U), which a name may not have (symbols, and letters that have a plainer form, are refused)", r, r)
		}
	}
	return "mixes right-to-left and left-to-right letters in a way that can display out of order (RFC 5893)"
}

// scriptsOf lists the scripts of the letters and digits of s, besides
// Common and Inherited (which combine with any).
func scriptsOf(s string) []string {
	var found []string
	for _, r := range s {
		for name, table := range unicode.Scripts {
			if name != "Common" && name != "Inherited" && unicode.Is(table, r) {
				if !slices.Contains(found, name) {
					found = append(found, name)
				}
				break
			}
		}
	}
	sort.Strings(found)
	return found
}

// highlyRestrictive are the mixes of scripts that UTS #39's "highly
// restrictive" level allows besides a single script: how Japanese, Chinese
// and Korean are written, with Latin.
var highlyRestrictive = [][]string{
	{"Han", "Hiragana", "Katakana", "Latin"},
	{"Bopomofo", "Han", "Latin"},
	{"Hangul", "Han", "Latin"},
}

func oneScript(scripts []string) bool {
	if len(scripts) <= 1 {
		return true
	}
	for _, allowed := range highlyRestrictive {
		all := true
		for _, s := range scripts {
			all = all && slices.Contains(allowed, s)
		}
		if all {
			return true
		}
	}
	return false
}
