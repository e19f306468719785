//! cert-manager's `Issuer`, `ClusterIssuer` and `Certificate` (cert-manager.io/v1): the fields
//! the rules read, typed as the CRD schema types them, so a wrong type is an input error at its
//! field (as the API server would refuse it) and the rules read plain fields.

use std::collections::BTreeMap;

/// The label cert-manager puts on the HTTP-01 solver pods it creates.
pub const SOLVER_LABEL: &str = "acme.cert-manager.io/http01-solver";

use serde::de::IgnoredAny;
use serde::Deserialize;
use serde_json::Value;

use super::{nullable, Labels, ObjRef, ObjectId};

/// A cert-manager Issuer or ClusterIssuer.
#[derive(Debug, Clone)]
pub struct Issuer {
    /// Identity.
    pub id: ObjectId,
    /// Where.
    pub obj: ObjRef,
    /// Namespace of an Issuer; `None` for a ClusterIssuer.
    pub namespace: Option<String>,
    /// `spec`.
    pub spec: IssuerSpec,
}

/// An issuer's `spec`: exactly one issuer type should be set.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IssuerSpec {
    /// An ACME CA (Let's Encrypt and the like).
    #[serde(default)]
    pub acme: Option<Acme>,
    /// A CA whose key pair is in a Secret.
    #[serde(default)]
    pub ca: Option<CaIssuer>,
    /// Self-signed certificates.
    #[serde(default)]
    pub self_signed: Option<IgnoredAny>,
    /// HashiCorp Vault.
    #[serde(default)]
    pub vault: Option<VaultIssuer>,
    /// Venafi (TPP, Cloud or NGTS).
    #[serde(default)]
    pub venafi: Option<VenafiIssuer>,
}

/// `spec.ca`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CaIssuer {
    /// Secret with the CA's key pair.
    #[serde(default, deserialize_with = "nullable")]
    pub secret_name: String,
}

/// `spec.vault`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VaultIssuer {
    /// Vault's URL.
    #[serde(default, deserialize_with = "nullable")]
    pub server: String,
    /// The signing path.
    #[serde(default, deserialize_with = "nullable")]
    pub path: String,
    /// How cert-manager authenticates.
    #[serde(default)]
    pub auth: Option<VaultAuth>,
}

/// `spec.vault.auth`: one method should be set.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VaultAuth {
    /// A token in a Secret.
    #[serde(default)]
    pub token_secret_ref: Option<IgnoredAny>,
    /// AppRole.
    #[serde(default)]
    pub app_role: Option<IgnoredAny>,
    /// Kubernetes service account.
    #[serde(default)]
    pub kubernetes: Option<IgnoredAny>,
    /// TLS client certificate.
    #[serde(default)]
    pub client_certificate: Option<IgnoredAny>,
}

/// `spec.venafi`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VenafiIssuer {
    /// The Venafi policy zone.
    #[serde(default, deserialize_with = "nullable")]
    pub zone: String,
    /// Trust Protection Platform.
    #[serde(default)]
    pub tpp: Option<IgnoredAny>,
    /// Venafi Cloud.
    #[serde(default)]
    pub cloud: Option<IgnoredAny>,
    /// Next-Generation Trust Security.
    #[serde(default)]
    pub ngts: Option<NgtsIssuer>,
}

/// `spec.venafi.ngts`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NgtsIssuer {
    /// Tenant service group.
    #[serde(default, rename = "tsgID", deserialize_with = "nullable")]
    pub tsg_id: String,
    /// Secret with the credentials.
    #[serde(default)]
    pub credentials_ref: Option<LocalRef>,
}

/// A reference by name (`{name: …}`), to a Secret of the issuer's namespace.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct LocalRef {
    /// Name.
    #[serde(default, deserialize_with = "nullable")]
    pub name: String,
}

/// `spec.acme`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Acme {
    /// Directory URL.
    #[serde(default, deserialize_with = "nullable")]
    pub server: String,
    /// Secret the ACME account key is stored in.
    #[serde(default)]
    pub private_key_secret_ref: Option<LocalRef>,
    /// PEM bundle to trust for the ACME server.
    #[serde(default)]
    pub ca_bundle: Option<String>,
    /// Whether the server's certificate goes unchecked.
    #[serde(default, rename = "skipTLSVerify")]
    pub skip_tls_verify: Option<bool>,
    /// Challenge solvers.
    #[serde(default, deserialize_with = "nullable")]
    pub solvers: Vec<AcmeSolver>,
}

/// One ACME challenge solver.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AcmeSolver {
    /// Which names it solves; absent for all.
    #[serde(default)]
    pub selector: Option<SolverSelector>,
    /// Set for an HTTP-01 solver.
    #[serde(default)]
    pub http01: Option<Http01>,
    /// Set for a DNS-01 solver.
    #[serde(default)]
    pub dns01: Option<Dns01>,
}

/// `solvers[].selector`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SolverSelector {
    /// Exact names.
    #[serde(default, deserialize_with = "nullable")]
    pub dns_names: Vec<String>,
    /// Zones: a name in the zone or below it.
    #[serde(default, deserialize_with = "nullable")]
    pub dns_zones: Vec<String>,
    /// Labels the Certificate must carry.
    #[serde(default, deserialize_with = "nullable")]
    pub match_labels: Labels,
}

/// `solvers[].http01`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Http01 {
    /// Solve through an Ingress.
    #[serde(default)]
    pub ingress: Option<Http01Ingress>,
    /// Solve through a Gateway API HTTPRoute.
    #[serde(default, rename = "gatewayHTTPRoute")]
    pub gateway_http_route: Option<IgnoredAny>,
}

/// `solvers[].http01.ingress`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Http01Ingress {
    /// `kubernetes.io/ingress.class` of the solver's Ingress.
    #[serde(default)]
    pub class: Option<String>,
    /// `ingressClassName` of the solver's Ingress.
    #[serde(default)]
    pub ingress_class_name: Option<String>,
    /// An existing Ingress to edit instead.
    #[serde(default)]
    pub name: Option<String>,
    /// Type of the solver's Service.
    #[serde(default)]
    pub service_type: Option<String>,
}

/// `solvers[].dns01`. The eleven providers differ in shape; NR309 checks each one's required
/// fields from a table, as cert-manager's webhook does, so they stay JSON values here.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Dns01 {
    /// `None` or `Follow`.
    #[serde(default)]
    pub cname_strategy: Option<String>,
    /// Every other key: provider name → its configuration.
    #[serde(flatten)]
    pub providers: BTreeMap<String, Value>,
}

/// A cert-manager Certificate.
#[derive(Debug, Clone)]
pub struct Certificate {
    /// Identity.
    pub id: ObjectId,
    /// Where.
    pub obj: ObjRef,
    /// Namespace.
    pub namespace: String,
    /// `metadata.labels` (ACME solver selectors match them).
    pub labels: Labels,
    /// `spec`.
    pub spec: CertificateSpec,
}

/// A Certificate's `spec`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CertificateSpec {
    /// Secret the key pair is written to.
    #[serde(default, deserialize_with = "nullable")]
    pub secret_name: String,
    /// The issuer that signs it.
    #[serde(default)]
    pub issuer_ref: IssuerRef,
    /// Subject common name.
    #[serde(default)]
    pub common_name: Option<String>,
    /// The whole subject as an RFC 4514 string.
    #[serde(default)]
    pub literal_subject: Option<String>,
    /// DNS SANs.
    #[serde(default, deserialize_with = "nullable")]
    pub dns_names: Vec<String>,
    /// URI SANs.
    #[serde(default, deserialize_with = "nullable")]
    pub uris: Vec<String>,
    /// E-mail SANs.
    #[serde(default, deserialize_with = "nullable")]
    pub email_addresses: Vec<String>,
    /// IP SANs.
    #[serde(default, deserialize_with = "nullable")]
    pub ip_addresses: Vec<String>,
    /// otherName SANs.
    #[serde(default, deserialize_with = "nullable")]
    pub other_names: Vec<OtherName>,
    /// Signature algorithm (must suit the key algorithm).
    #[serde(default)]
    pub signature_algorithm: Option<String>,
    /// Labels and annotations copied onto the Secret.
    #[serde(default)]
    pub secret_template: Option<SecretTemplate>,
    /// Key algorithm and size.
    #[serde(default)]
    pub private_key: Option<PrivateKey>,
    /// Requested lifetime (Go duration).
    #[serde(default)]
    pub duration: Option<String>,
    /// When to renew (Go duration before expiry).
    #[serde(default)]
    pub renew_before: Option<String>,
    /// When to renew, as a percentage of the lifetime.
    #[serde(default)]
    pub renew_before_percentage: Option<i64>,
    /// Key usages.
    #[serde(default, deserialize_with = "nullable")]
    pub usages: Vec<String>,
    /// CertificateRequests kept.
    #[serde(default)]
    pub revision_history_limit: Option<i64>,
}

/// `spec.otherNames[]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OtherName {
    /// Object identifier, dotted.
    #[serde(default, deserialize_with = "nullable")]
    pub oid: String,
    /// The value.
    #[serde(default, rename = "utf8Value", deserialize_with = "nullable")]
    pub utf8_value: String,
}

/// `spec.secretTemplate`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct SecretTemplate {
    /// Annotations for the Secret.
    #[serde(default, deserialize_with = "nullable")]
    pub annotations: BTreeMap<String, String>,
    /// Labels for the Secret.
    #[serde(default, deserialize_with = "nullable")]
    pub labels: BTreeMap<String, String>,
}

/// `spec.privateKey`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PrivateKey {
    /// `RSA` (default), `ECDSA` or `Ed25519`.
    #[serde(default)]
    pub algorithm: Option<String>,
    /// Key size in bits.
    #[serde(default)]
    pub size: Option<i64>,
}

impl CertificateSpec {
    /// The names a CA is asked for: `dnsNames`, then `commonName`.
    pub fn names(&self) -> Vec<String> {
        self.dns_names.iter().cloned().chain(self.common_name.clone()).collect()
    }
}

/// A reference to an Issuer or ClusterIssuer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct IssuerRef {
    /// Issuer name.
    #[serde(default, deserialize_with = "nullable")]
    pub name: String,
    /// `Issuer` (default) or `ClusterIssuer`.
    #[serde(default)]
    pub kind: Option<String>,
    /// API group (cert-manager.io by default).
    #[serde(default)]
    pub group: Option<String>,
}

impl IssuerRef {
    /// Whether this names a ClusterIssuer.
    pub fn is_cluster(&self) -> bool {
        self.kind.as_deref() == Some("ClusterIssuer")
    }
}
