//! Ingress, TLS and cert-manager (`NR3xx`): what the API server, cert-manager's webhook and
//! ingress-shim, and ingress-nginx accept or silently ignore, checked before apply.

mod helpers;
mod acme_server_suspicious;
mod auth_annotations_broken;
mod backend_missing;
mod certificate_invalid;
mod certificates_share_secret;
mod conflicting_issuer_annotations;
mod ingress_class_unresolved;
mod ingress_host_invalid;
mod ingress_path_invalid;
mod ingress_without_tls;
mod issuer_invalid;
mod issuer_missing;
mod nginx_allowlist_invalid;
mod no_usable_solver;
mod rule_host_not_in_tls;
mod tls_host_not_routed;
mod tls_unusable_by_cert_manager;

pub use acme_server_suspicious::AcmeServerSuspicious;
pub use auth_annotations_broken::AuthAnnotationsBroken;
pub use backend_missing::BackendMissing;
pub use certificate_invalid::CertificateInvalid;
pub use certificates_share_secret::CertificatesShareSecret;
pub use conflicting_issuer_annotations::ConflictingIssuerAnnotations;
pub use ingress_class_unresolved::IngressClassUnresolved;
pub use ingress_host_invalid::IngressHostInvalid;
pub use ingress_path_invalid::IngressPathInvalid;
pub use ingress_without_tls::IngressWithoutTls;
pub use issuer_invalid::IssuerInvalid;
pub use issuer_missing::IssuerMissing;
pub use nginx_allowlist_invalid::NginxAllowlistInvalid;
pub use no_usable_solver::NoUsableSolver;
pub use rule_host_not_in_tls::RuleHostNotInTls;
pub use tls_host_not_routed::TlsHostNotRouted;
pub use tls_unusable_by_cert_manager::TlsUnusableByCertManager;
