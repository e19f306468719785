//! Reaching a destination through a Service: the client's egress to a backend pod and that
//! pod's ingress, on the pod port the Service forwards to (policies see the connection after the
//! Service translated it).

use super::{Direction, Engine, SideVerdict, Target};
use crate::model::{Labels, NeedTarget, Protocol};

/// The API server as a destination (`kubernetes.default`): its addresses and ports.
pub struct ApiServer<'a> {
    /// Where its traffic goes.
    pub targets: &'a [Target],
    /// The ports it listens on.
    pub ports: &'a [u16],
}

/// Whether `wi` can reach a host (a name, Service name or address) on `protocol`/`port`.
#[derive(Debug)]
pub enum Reach {
    /// Some path is allowed (or nothing isolates it).
    Allowed,
    /// Every path is blocked.
    Blocked(Blocked),
    /// The input does not show enough to say.
    Unknown(String),
}

/// The first blocking side of a connection.
#[derive(Debug)]
pub struct Blocked {
    /// The side that blocks: the source's egress or the destination's ingress.
    pub dir: Direction,
    /// Its verdict.
    pub verdict: SideVerdict,
    /// The other end, as that side sees it.
    pub other: Target,
    /// The workload whose side blocks.
    pub at: usize,
    /// The port as that side sees it: a Service's target port on the pod, since policies
    /// match connections after the Service translated them.
    pub port: u16,
}

impl Engine<'_> {
    /// Whether workload `wi` can reach `target` on `protocol`/`port`: its egress, and for a
    /// Service, the egress to and the ingress of at least one backend pod on the target port.
    pub fn reach(&self, wi: usize, target: &NeedTarget, protocol: Protocol, port: u16, api: &ApiServer<'_>) -> Reach {
        let Some(w) = self.ws.workloads.get(wi) else { return Reach::Allowed };
        let blocked_egress = |t: Target, port: u16| {
            let v = self.egress_to(wi, &t, port, protocol);
            if v.allowed {
                None
            } else {
                Some(Reach::Blocked(Blocked { dir: Direction::Egress, verdict: v, other: t, at: wi, port }))
            }
        };
        match target {
            NeedTarget::Ip(ip) => blocked_egress(Target::Ip(*ip), port).unwrap_or(Reach::Allowed),
            NeedTarget::External(h) => blocked_egress(Target::Host(h.clone()), port).unwrap_or(Reach::Allowed),
            NeedTarget::Service(name, ns) => {
                let ns = ns.clone().unwrap_or_else(|| w.namespace.clone());
                if name == "kubernetes" && ns == "default" {
                    for t in api.targets {
                        for &p in api.ports {
                            if let Some(b) = blocked_egress(t.clone(), p) {
                                return b;
                            }
                        }
                    }
                    return Reach::Allowed;
                }
                if !self.ws.coverage.sees_namespace(&ns) {
                    return Reach::Unknown(format!("the objects of namespace `{ns}` were not read"));
                }
                let backends = match self.service_backends(name, &ns, protocol, port) {
                    Ok(b) => b,
                    Err(why) => return Reach::Unknown(why),
                };
                let mut first = None;
                for (b, tp) in backends {
                    let t = Target::Workload(b);
                    if let Some(blocked) = blocked_egress(t, tp) {
                        first.get_or_insert(blocked);
                        continue;
                    }
                    let v = self.ingress_from(b, &Target::Workload(wi), tp, protocol);
                    if v.allowed {
                        return Reach::Allowed;
                    }
                    first.get_or_insert(Reach::Blocked(Blocked { dir: Direction::Ingress, verdict: v, other: Target::Workload(wi), at: b, port: tp }));
                }
                first.unwrap_or(Reach::Allowed)
            }
        }
    }

    /// The workloads behind Service `name` in `ns` and the pod port that Service port
    /// `protocol`/`port` forwards to on each (`targetPort`, a named one resolved per pod).
    pub fn service_backends(&self, name: &str, ns: &str, protocol: Protocol, port: u16) -> Result<Vec<(usize, u16)>, String> {
        use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
        let svc = self
            .ws
            .services
            .iter()
            .find(|s| s.namespace == ns && s.id.name == name)
            .ok_or_else(|| format!("Service {ns}/{name} is not in the input"))?;
        let sp = svc
            .spec
            .ports
            .iter()
            .flatten()
            .find(|p| i32::from(port) == p.port && p.protocol.as_deref().unwrap_or("TCP") == protocol.as_str())
            .ok_or_else(|| format!("Service {ns}/{name} has no {protocol} port {port}"))?;
        let selector: Labels = svc.spec.selector.clone().unwrap_or_default().into_iter().collect();
        if selector.is_empty() {
            return Err(format!("Service {ns}/{name} has no selector: its endpoints are not in the input"));
        }
        let mut out = Vec::new();
        for (i, w) in self.ws.workloads.iter().enumerate() {
            if w.namespace != ns || !crate::model::contains_labels(&w.labels, &selector) {
                continue;
            }
            let tp = match &sp.target_port {
                None => Some(port),
                Some(IntOrString::Int(n)) => u16::try_from(*n).ok(),
                Some(IntOrString::String(n)) => super::resolve_named(w, protocol, n).first().copied(),
            };
            out.extend(tp.map(|tp| (i, tp)));
        }
        if out.is_empty() {
            return Err(format!("no workload in the input matches the selector of Service {ns}/{name} on port {port}"));
        }
        Ok(out)
    }
}
