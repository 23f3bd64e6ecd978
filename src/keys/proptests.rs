//! Whatever is pasted, cleaning, decoding and assessing never panic.

use super::testkit::{sandbox_header, sandbox_key, sign, store_claims};
use super::{AssessContext, assess, clean_bytes, clean_input, decode, inspect};
use proptest::prelude::*;

fn ctx() -> AssessContext<'static> {
    AssessContext {
        now: chrono::DateTime::from_timestamp(1_790_000_000, 0).unwrap(),
        profile_client_id: Some("1d5773695a3b44928227393bfef1e13d"),
        sandbox_public_key_pem: Some(&sandbox_key().public_pem),
    }
}

/// Text built from the pieces real pastes are made of, so that the
/// interesting paths (JSON, scans, three parts) are reached often.
fn pasteish() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("eyJ".to_string()),
        Just(".".to_string()),
        Just("Bearer ".to_string()),
        Just("\"".to_string()),
        Just("{\"key\":\"".to_string()),
        Just("\n".to_string()),
        "[A-Za-z0-9_=-]{0,12}",
        any::<String>(),
    ];
    proptest::collection::vec(piece, 0..12).prop_map(|v| v.concat())
}

proptest! {
    #[test]
    fn arbitrary_strings_never_panic(s in any::<String>()) {
        let _ = clean_input(&s);
        if let Ok(d) = decode(&s) {
            let _ = assess(&d, &ctx());
        }
        let _ = inspect(&s, &ctx());
    }

    #[test]
    fn paste_like_strings_never_panic(s in pasteish()) {
        let _ = inspect(&s, &ctx());
    }

    #[test]
    fn arbitrary_bytes_never_panic(b in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = clean_bytes(&b);
    }

    #[test]
    fn any_valid_base64_parts_never_panic(h in any::<Vec<u8>>(), p in any::<Vec<u8>>(), s in any::<Vec<u8>>()) {
        use base64::Engine;
        let e = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let t = format!("{}.{}.{}", e.encode(&h), e.encode(&p), e.encode(&s));
        if let Ok(d) = decode(&t) {
            let _ = assess(&d, &ctx());
        }
    }

    /// A real key survives any wrapping people paste it in.
    #[test]
    fn wrapped_keys_are_found(
        before in "[ \t\n]{0,3}(Bearer |\"|key=|token: )?",
        after in "(\"|,|\\.)?[ \t\n]{0,3}",
    ) {
        let t = key();
        let c = clean_input(&format!("{before}{t}{after}")).unwrap();
        prop_assert_eq!(&c.token, t);
    }
}

fn key() -> &'static str {
    static K: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    K.get_or_init(|| {
        sign(
            &sandbox_header(),
            &store_claims(1_790_000_000),
            sandbox_key(),
        )
    })
}
