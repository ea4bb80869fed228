//! The shared bearer token agents present in the `authorization` metadata.

use tonic::Status;
use tonic::metadata::MetadataMap;

/// What a session must present.
#[derive(Clone, Default)]
pub struct Auth {
    token: Option<String>,
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Auth")
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

impl Auth {
    /// Sessions must present `Bearer <token>` (None: no token required).
    pub fn new(token: Option<String>) -> Self {
        Self { token }
    }

    /// Checks a session's metadata.
    pub fn check(&self, md: &MetadataMap) -> Result<(), Status> {
        let Some(want) = &self.token else {
            return Ok(());
        };
        let got = md
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let presented = got.strip_prefix("Bearer ").unwrap_or("");
        if presented.is_empty() {
            return Err(Status::unauthenticated("missing bearer token"));
        }
        if !constant_time_eq(presented.as_bytes(), want.as_bytes()) {
            return Err(Status::unauthenticated("wrong bearer token"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_checked() {
        let auth = Auth::new(Some("s3cret".into()));
        let mut md = MetadataMap::new();
        assert!(auth.check(&md).is_err());
        md.insert("authorization", "Bearer nope".parse().expect("ascii"));
        assert_eq!(
            auth.check(&md).map_err(|s| s.code()),
            Err(tonic::Code::Unauthenticated)
        );
        md.insert("authorization", "Bearer s3cret".parse().expect("ascii"));
        assert!(auth.check(&md).is_ok());
        assert!(Auth::new(None).check(&MetadataMap::new()).is_ok());
        assert!(!format!("{auth:?}").contains("s3cret"));
    }
}
