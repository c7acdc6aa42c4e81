//! Validation of names and secrets that users type. Each error names the
//! field, so the API and the UI can say what is wrong and where.

/// A rejected value: which field and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct Invalid {
    pub field: &'static str,
    pub reason: String,
}

impl Invalid {
    pub fn field(field: &'static str, reason: impl Into<String>) -> Invalid {
        Invalid { field, reason: reason.into() }
    }
}

fn invalid(field: &'static str, reason: impl Into<String>) -> Invalid {
    Invalid { field, reason: reason.into() }
}

/// Login names: 2–64 of `a-z 0-9 . _ -`, starting with a letter or digit.
pub fn username(s: &str) -> Result<(), Invalid> {
    let ok_len = (2..=64).contains(&s.len());
    let ok_first = s.chars().next().is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    let ok_chars = s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || ".-_".contains(c));
    if ok_len && ok_first && ok_chars {
        Ok(())
    } else {
        Err(invalid("username", "use 2 to 64 characters a-z, 0-9, '.', '_' or '-', starting with a letter or digit"))
    }
}

/// Free text shown to people (names of users and units): 1–200 characters,
/// no control characters.
pub fn label(field: &'static str, s: &str) -> Result<(), Invalid> {
    let n = s.chars().count();
    if s.trim().is_empty() {
        return Err(invalid(field, "must not be empty"));
    }
    if n > 200 {
        return Err(invalid(field, format!("is {n} characters long; at most 200 are allowed")));
    }
    if s.chars().any(char::is_control) {
        return Err(invalid(field, "must not contain control characters"));
    }
    Ok(())
}

/// An optional short code or contact field: at most 200 characters, no
/// control characters; empty is fine.
pub fn optional_text(field: &'static str, s: &str) -> Result<(), Invalid> {
    if s.is_empty() { Ok(()) } else { label(field, s) }
}

const COMMON_PASSWORDS: &[&str] = &[
    "password",
    "password123",
    "123456789012",
    "qwertyuiop",
    "admin123456",
    "administrator",
    "changeme1234",
    "iloveyou1234",
    "welcome12345",
    "1q2w3e4r5t6y",
    "abc123456789",
    "p@ssw0rd1234",
];

/// Passwords: at least 12 characters, not the user name, not a well-known one.
pub fn password(username: &str, pw: &str) -> Result<(), Invalid> {
    let n = pw.chars().count();
    if n < 12 {
        return Err(invalid("password", format!("is {n} characters long; use at least 12")));
    }
    if n > 1024 {
        return Err(invalid("password", "is longer than 1024 characters"));
    }
    let lower = pw.to_lowercase();
    if lower.contains(&username.to_lowercase()) && !username.is_empty() {
        return Err(invalid("password", "must not contain the user name"));
    }
    if COMMON_PASSWORDS.contains(&lower.as_str()) {
        return Err(invalid("password", "is on the list of commonly used passwords"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames() {
        for ok in ["admin", "zhang.wei", "ci-bot_2", "a1"] {
            assert!(username(ok).is_ok(), "{ok}");
        }
        for bad in ["", "a", "Admin", "-x", "张伟", "a b", &"x".repeat(65)] {
            assert_eq!(username(bad).map_err(|e| e.field), Err("username"), "{bad}");
        }
    }

    #[test]
    fn passwords() {
        assert!(password("admin", "correct horse battery").is_ok());
        assert!(password("admin", "short").is_err());
        assert!(password("zhangwei", "zhangwei-2026!").is_err());
        assert!(password("x", "Password123").is_err()); // 11 chars
        assert!(password("bob", "p@ssw0rd1234").is_err());
    }

    #[test]
    fn labels() {
        assert!(label("name", "广东公司 网络安全部").is_ok());
        assert!(label("name", "  ").is_err());
        assert!(label("name", "a\u{0}b").is_err());
        assert_eq!(label("name", &"长".repeat(201)).map_err(|e| e.field), Err("name"));
    }
}
