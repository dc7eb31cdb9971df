//! What a principal ARN says: type, name, role session, Identity Center permission set.

/// The parsed identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// Account id.
    pub account: String,
    /// Account aliases.
    pub aliases: Vec<String>,
    /// Principal ARN.
    pub arn: String,
    /// UserId.
    pub user_id: String,
    /// root, user, assumed-role, federated-user (or the ARN's resource type).
    pub kind: String,
    /// User, role or federated user name (last path segment).
    pub name: Option<String>,
    /// Role session name of assumed roles.
    pub role_session_name: Option<String>,
    /// The permission set of an `AWSReservedSSO_<set>_<hex>` role.
    pub sso_permission_set: Option<String>,
}

/// Parses a GetCallerIdentity answer.
pub fn parse_arn(arn: &str, user_id: &str, account: &str) -> Identity {
    let resource = arn.splitn(6, ':').nth(5).unwrap_or_default();
    let (kind, name, session) = if resource == "root" {
        ("root".to_string(), Some("root".to_string()), None)
    } else if let Some(rest) = resource.strip_prefix("assumed-role/") {
        let (role, session) = rest.split_once('/').unwrap_or((rest, ""));
        ("assumed-role".into(), Some(role.to_string()), Some(session.to_string()).filter(|s| !s.is_empty()))
    } else if let Some(rest) = resource.strip_prefix("user/") {
        ("user".into(), rest.rsplit('/').next().map(str::to_string), None)
    } else if let Some(rest) = resource.strip_prefix("federated-user/") {
        ("federated-user".into(), Some(rest.to_string()), None)
    } else {
        let (k, n) = resource.split_once('/').unwrap_or((resource, ""));
        (k.to_string(), Some(n.to_string()).filter(|s| !s.is_empty()), None)
    };
    let sso_permission_set = (kind == "assumed-role").then(|| name.as_deref().and_then(permission_set)).flatten();
    Identity {
        account: account.to_string(),
        aliases: Vec::new(),
        arn: arn.to_string(),
        user_id: user_id.to_string(),
        kind,
        name,
        role_session_name: session,
        sso_permission_set,
    }
}

/// `AWSReservedSSO_<set>_<hex>` → `<set>` (underscores inside the set name kept).
pub fn permission_set(role: &str) -> Option<String> {
    let rest = role.strip_prefix("AWSReservedSSO_")?;
    let (set, hex) = rest.rsplit_once('_')?;
    (!set.is_empty() && !hex.is_empty() && hex.chars().all(|c| c.is_ascii_hexdigit())).then(|| set.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds() {
        let r = parse_arn("arn:aws:iam::111111111111:root", "111111111111", "111111111111");
        assert_eq!((r.kind.as_str(), r.name.as_deref()), ("root", Some("root")));
        let u = parse_arn("arn:aws:iam::1:user/engineering/bob", "AIDA", "1");
        assert_eq!((u.kind.as_str(), u.name.as_deref(), u.role_session_name), ("user", Some("bob"), None));
        let a = parse_arn(
            "arn:aws:sts::1:assumed-role/AWSReservedSSO_Billing_Admin_0123456789abcdef/alice@example.com",
            "AROA:alice",
            "1",
        );
        assert_eq!(a.kind, "assumed-role");
        assert_eq!(a.role_session_name.as_deref(), Some("alice@example.com"));
        assert_eq!(a.sso_permission_set.as_deref(), Some("Billing_Admin"));
        let f = parse_arn("arn:aws:sts::1:federated-user/console", "1:console", "1");
        assert_eq!((f.kind.as_str(), f.name.as_deref()), ("federated-user", Some("console")));
        assert_eq!(permission_set("AWSReservedSSO__abc"), None);
        assert_eq!(permission_set("admin"), None);
    }
}
