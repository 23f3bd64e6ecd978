//! What Entra's refusals of a token request mean and which profile field
//! fixes them: the one table both a failed call's hint
//! ([`super::StoreError::hint`]) and `doctor`'s token checks read.

/// A refusal Entra gave, by what the operator has to change.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EntraProblem {
    /// AADSTS7000215 / 7000222, `invalid_client`: the secret is wrong or expired.
    Secret,
    /// AADSTS90002 / 900023: the tenant is not a directory Entra knows.
    Tenant,
    /// AADSTS700016: no such app in the tenant.
    ClientId,
    /// AADSTS900144 / 1002012, `invalid_scope`: v1 `resource` sent to the
    /// v2 endpoint or the other way round.
    TokenStyle,
    /// AADSTS500011, `invalid_resource`: the Store is not set up in the tenant.
    Audience,
    /// `unauthorized_client`: the app may not use this flow.
    Unauthorized,
}

impl EntraProblem {
    /// From an error's code (`error` of Entra's body) and its message
    /// (`error_description`, where the AADSTS code is): the AADSTS code
    /// first, it is the more precise.
    pub fn diagnose(code: Option<&str>, message: &str) -> Option<Self> {
        let by_aadsts = aadsts(message)
            .or_else(|| code.and_then(aadsts))
            .and_then(|c| match c.as_str() {
                "AADSTS7000215" | "AADSTS7000222" => Some(Self::Secret),
                "AADSTS90002" | "AADSTS900023" => Some(Self::Tenant),
                "AADSTS700016" => Some(Self::ClientId),
                "AADSTS900144" | "AADSTS1002012" => Some(Self::TokenStyle),
                "AADSTS500011" => Some(Self::Audience),
                _ => None,
            });
        by_aadsts.or_else(|| match code?.to_ascii_lowercase().as_str() {
            "invalid_scope" => Some(Self::TokenStyle),
            "invalid_client" => Some(Self::Secret),
            "invalid_resource" => Some(Self::Audience),
            "unauthorized_client" => Some(Self::Unauthorized),
            _ => None,
        })
    }

    /// The profile field (or the place outside the profile) to change.
    pub fn field(self) -> &'static str {
        match self {
            Self::Secret => "client_secret_env / secret_command",
            Self::Tenant => "tenant_id",
            Self::ClientId => "client_id",
            Self::TokenStyle => "token_style",
            Self::Audience | Self::Unauthorized => "Partner Center (not a profile field)",
        }
    }

    /// One line for an error: what it means and the field to fix.
    pub fn hint(self) -> &'static str {
        match self {
            Self::Secret => {
                "Entra rejected the client secret: put the app's current secret where the profile's client_secret_env or secret_command points"
            }
            Self::Tenant => {
                "Entra does not know this tenant: set the profile's tenant_id to the Directory (tenant) ID of the app registration"
            }
            Self::ClientId => {
                "Entra has no such app in this tenant: check the profile's client_id (Application ID) belongs to tenant_id"
            }
            Self::TokenStyle => {
                "Entra refused the scope/resource: the login endpoint speaks the other token style — switch the profile's token_style (v1 sends resource=, v2 sends scope=…/.default)"
            }
            Self::Audience => {
                "Entra does not know the Store audience in this tenant: associate the Entra app with your products in Partner Center (no profile field fixes this)"
            }
            Self::Unauthorized => {
                "the Entra app is not allowed to get this token: check its registration and the Partner Center association"
            }
        }
    }
}

/// The first `AADSTSnnnn` code in a text.
pub fn aadsts(text: &str) -> Option<String> {
    let i = text.find("AADSTS")?;
    let digits: String = text[i + 6..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    (!digits.is_empty()).then(|| format!("AADSTS{digits}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aadsts_code_is_found() {
        assert_eq!(
            aadsts("invalid_request AADSTS900144: The request").as_deref(),
            Some("AADSTS900144")
        );
        assert_eq!(aadsts("no code"), None);
        assert_eq!(aadsts("AADSTS"), None);
    }

    #[test]
    fn the_aadsts_code_wins_over_the_error_code_and_names_a_field() {
        // invalid_request + AADSTS900144: the style, not the request.
        let p = EntraProblem::diagnose(Some("invalid_request"), "AADSTS900144: missing 'scope'");
        assert_eq!(p, Some(EntraProblem::TokenStyle));
        assert!(p.unwrap().hint().contains("token_style"));
        let p = EntraProblem::diagnose(Some("invalid_scope"), "no code here");
        assert_eq!(p, Some(EntraProblem::TokenStyle));
        let p = EntraProblem::diagnose(Some("invalid_request"), "AADSTS90002: Tenant 'x'");
        assert_eq!(p.map(EntraProblem::field), Some("tenant_id"));
        let p = EntraProblem::diagnose(Some("unauthorized_client"), "AADSTS700016: no app");
        assert_eq!(p.map(EntraProblem::field), Some("client_id"));
        assert_eq!(EntraProblem::diagnose(Some("Unauthorized"), "x"), None);
        assert_eq!(EntraProblem::diagnose(None, "AADSTS1: unknown"), None);
    }
}
