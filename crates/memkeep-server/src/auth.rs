//! The auth token: compared in constant time, never printed.

use subtle::ConstantTimeEq;

/// A secret that `Debug` and `Display` never reveal.
#[derive(Clone)]
pub struct Token(Vec<u8>);

impl Token {
    pub fn new(secret: impl Into<Vec<u8>>) -> Token {
        Token(secret.into())
    }

    /// Whether `candidate` is the token, in time independent of where they differ.
    pub fn matches(&self, candidate: &[u8]) -> bool {
        // Lengths are compared in the open; the token's length is not secret
        // enough to matter, and `ct_eq` needs equal lengths.
        self.0.len() == candidate.len() && bool::from(self.0.as_slice().ct_eq(candidate))
    }
}

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Token(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::Token;

    #[test]
    fn tokens_match_exactly_and_never_print() {
        let t = Token::new("s3cret");
        assert!(t.matches(b"s3cret"));
        assert!(!t.matches(b"s3cre"));
        assert!(!t.matches(b"s3cret!"));
        assert!(!format!("{t:?}").contains("s3cret"));
    }
}
