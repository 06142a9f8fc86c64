//! `deploy/compose.yaml` and `deploy/kubernetes.yaml` cannot run on these machines, so
//! they are parsed and held against the product: every variable they set is one the BFF
//! reads, the instances share what the README says they must share, the probes and ports
//! are the ones the BFF serves, the image is the one `cargo xtask image` builds, and the
//! names that refer to each other (services, secrets, ports, labels) resolve.

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;

use backend::config::ProxyNet;
use serde_yaml::Value;

use crate::common::workspace;

fn version() -> String {
    let manifest = std::fs::read_to_string(workspace().join("backend/Cargo.toml")).unwrap();
    manifest
        .lines()
        .find_map(|l| l.strip_prefix("version = \""))
        .unwrap()
        .trim_end_matches('"')
        .to_owned()
}

/// Every variable the BFF reads, as `backend check` lists them, and the families it
/// reads by prefix.
fn known_variables() -> BTreeSet<String> {
    let out = Command::new(env!("CARGO_BIN_EXE_bff-process"))
        .arg("check")
        .env_clear()
        .env("DATA_DIR", tempfile::tempdir().unwrap().path())
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let names: BTreeSet<String> = text
        .lines()
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        .filter_map(|l| l.split_whitespace().next().map(str::to_owned))
        .collect();
    assert!(
        names.contains("SESSION_STORE") && names.len() > 30,
        "{text}"
    );
    names
}

fn is_known(known: &BTreeSet<String>, name: &str) -> bool {
    known.contains(name)
        || ["OTEL_", "OIDC_"].iter().any(|p| name.starts_with(p))
        || ["RUST_LOG", "SSL_CERT_FILE"].contains(&name)
}

fn read_yaml(path: &str) -> Vec<Value> {
    let text = std::fs::read_to_string(workspace().join(path)).unwrap();
    serde_yaml::Deserializer::from_str(&text)
        .map(|document| {
            let mut value = <Value as serde::Deserialize>::deserialize(document)
                .unwrap_or_else(|e| panic!("{path}: {e}"));
            value
                .apply_merge()
                .unwrap_or_else(|e| panic!("{path}: {e}"));
            value
        })
        .collect()
}

fn text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        other => panic!("not a scalar: {other:?}"),
    }
}

fn trusted(list: &str) -> Vec<ProxyNet> {
    list.split(',')
        .map(|p| p.parse().unwrap_or_else(|e| panic!("TRUSTED_PROXIES: {e}")))
        .collect()
}

#[test]
fn the_compose_file_runs_two_instances_that_share_their_stores_behind_one_balancer() {
    let known = known_variables();
    let compose = read_yaml("deploy/compose.yaml").remove(0);
    let services = compose["services"].as_mapping().unwrap();
    let name_of = |k: &Value| k.as_str().unwrap().to_owned();
    let bffs: Vec<(String, &Value)> = services
        .iter()
        .filter(|(_, s)| {
            s["image"]
                .as_str()
                .is_some_and(|i| i.contains("repo-desk-bff"))
        })
        .map(|(k, s)| (name_of(k), s))
        .collect();
    assert!(bffs.len() >= 2, "two instances at least");
    let mut environments = Vec::new();
    for (name, service) in &bffs {
        assert_eq!(
            service["image"].as_str().unwrap(),
            format!("localhost/repo-desk-bff:{}", version()),
            "{name}: the image cargo xtask image builds"
        );
        assert_eq!(service["user"].as_str(), Some("10001:10001"), "{name}");
        assert_eq!(service["read_only"].as_bool(), Some(true), "{name}");
        let tmpfs: Vec<String> = service["tmpfs"]
            .as_sequence()
            .unwrap()
            .iter()
            .map(text)
            .collect();
        assert!(
            tmpfs.contains(&"/data:uid=10001,gid=10001,mode=0700".to_owned()),
            "{name}: a private /data the user owns"
        );
        let env: BTreeMap<String, String> = service["environment"]
            .as_mapping()
            .unwrap()
            .iter()
            .map(|(k, v)| (name_of(k), text(v)))
            .collect();
        for variable in env.keys() {
            assert!(
                is_known(&known, variable),
                "{name}: the BFF has no {variable}"
            );
        }
        for shared in [
            "SESSION_STORE",
            "DATABASE_URL",
            "TOKEN_KEYS",
            "IDENTITY_KEYS",
            "TRUSTED_PROXIES",
        ] {
            assert!(env.contains_key(shared), "{name}: {shared} is missing");
        }
        for store in ["redis", "postgres"] {
            assert!(
                service["depends_on"][store]["condition"].as_str() == Some("service_healthy"),
                "{name} waits for {store}"
            );
        }
        environments.push(env);
    }
    assert!(
        environments.windows(2).all(|w| w[0] == w[1]),
        "every instance has the same settings"
    );
    let env = &environments[0];
    let host_of = |url: &str| url::Url::parse(url).unwrap().host_str().unwrap().to_owned();
    assert_eq!(host_of(&env["SESSION_STORE"]), "redis");
    assert!(env["DATABASE_URL"].starts_with("postgres://"));
    assert!(env["DATABASE_URL"].ends_with("@postgres:5432/bff"));
    for store in ["redis", "postgres"] {
        assert!(services.contains_key(store), "no {store} service");
        assert!(compose["services"][store]["healthcheck"].is_mapping());
    }

    // The balancer: the only trusted proxy, at the address TRUSTED_PROXIES names, inside
    // the network's subnet; it sends to every instance and checks /readyz.
    let lb = &compose["services"]["lb"];
    let address = text(&lb["networks"]["backend"]["ipv4_address"]);
    let ip: std::net::IpAddr = address.parse().unwrap();
    let proxies = backend::config::TrustedProxies::new(trusted(&env["TRUSTED_PROXIES"]));
    assert!(proxies.contains(&ip), "TRUSTED_PROXIES is not the balancer");
    let subnet = text(&compose["networks"]["backend"]["ipam"]["config"][0]["subnet"]);
    let network = backend::config::TrustedProxies::new(trusted(&subnet));
    assert!(
        network.contains(&ip),
        "the balancer's address is outside {subnet}"
    );
    let ports: Vec<String> = lb["ports"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(text)
        .collect();
    assert_eq!(ports, ["3000:80"]);
    assert!(env["PUBLIC_URL"].contains("http://localhost:3000"));
    let caddyfile = std::fs::read_to_string(workspace().join("deploy/Caddyfile")).unwrap();
    for (name, _) in &bffs {
        assert!(
            caddyfile.contains(&format!("{name}:3000")),
            "the balancer skips {name}"
        );
    }
    assert!(caddyfile.contains("health_uri /readyz"));
    let mounted: Vec<String> = lb["volumes"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(text)
        .collect();
    assert!(mounted.iter().any(|m| m.starts_with("./Caddyfile:")));

    // Every variable the file needs from .env is in the example.
    let example = std::fs::read_to_string(workspace().join("deploy/example.env")).unwrap();
    let raw = std::fs::read_to_string(workspace().join("deploy/compose.yaml")).unwrap();
    for needed in raw.split("${").skip(1) {
        let name = needed.split([':', '}']).next().unwrap();
        if name != "PUBLIC_URL" {
            assert!(
                example.contains(&format!("\n{name}=")),
                "example.env lacks {name}"
            );
        }
    }
}

#[test]
fn the_kubernetes_example_probes_the_bff_and_every_name_in_it_resolves() {
    let known = known_variables();
    let documents = read_yaml("deploy/kubernetes.yaml");
    let of_kind = |kind: &str| -> Vec<&Value> {
        documents
            .iter()
            .filter(|d| d["kind"].as_str() == Some(kind))
            .collect()
    };
    let kinds: BTreeSet<&str> = documents
        .iter()
        .map(|d| d["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, BTreeSet::from(["Deployment", "Secret", "Service"]));
    let secret = of_kind("Secret")[0];
    let secret_name = secret["metadata"]["name"].as_str().unwrap();
    let secret_keys: BTreeSet<String> = secret["stringData"]
        .as_mapping()
        .unwrap()
        .keys()
        .map(text)
        .collect();

    let deployment = of_kind("Deployment")[0];
    assert_eq!(deployment["apiVersion"].as_str(), Some("apps/v1"));
    let spec = &deployment["spec"];
    assert!(spec["replicas"].as_u64().unwrap() >= 2);
    let labels = spec["template"]["metadata"]["labels"].as_mapping().unwrap();
    for (key, value) in spec["selector"]["matchLabels"].as_mapping().unwrap() {
        assert_eq!(labels.get(key), Some(value), "the selector misses the pods");
    }
    let pod = &spec["template"]["spec"];
    assert_eq!(pod["securityContext"]["runAsNonRoot"].as_bool(), Some(true));
    assert_eq!(pod["securityContext"]["runAsUser"].as_u64(), Some(10001));
    let container = &pod["containers"][0];
    assert!(container["image"]
        .as_str()
        .unwrap()
        .ends_with(&format!("/repo-desk-bff:{}", version())));
    assert_eq!(
        container["securityContext"]["readOnlyRootFilesystem"].as_bool(),
        Some(true)
    );
    assert_eq!(
        container["securityContext"]["allowPrivilegeEscalation"].as_bool(),
        Some(false)
    );
    let ports: BTreeMap<String, u64> = container["ports"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|p| (text(&p["name"]), p["containerPort"].as_u64().unwrap()))
        .collect();
    assert_eq!(ports["http"], 3000, "the image's PORT");
    let mut env = BTreeMap::new();
    for variable in container["env"].as_sequence().unwrap() {
        let name = text(&variable["name"]);
        assert!(is_known(&known, &name), "the BFF has no {name}");
        if let Some(reference) = variable["valueFrom"]["secretKeyRef"].as_mapping() {
            assert_eq!(reference["name"].as_str(), Some(secret_name));
            assert!(secret_keys.contains(&text(&reference["key"])), "{name}");
        } else {
            env.insert(name, text(&variable["value"]));
        }
    }
    let metrics_port: u64 = env["METRICS_ADDR"]
        .rsplit(':')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(
        ports["metrics"], metrics_port,
        "METRICS_ADDR and the metrics port"
    );
    trusted(&env["TRUSTED_PROXIES"]);
    for shared in [
        "SESSION_STORE",
        "DATABASE_URL",
        "TOKEN_KEYS",
        "IDENTITY_KEYS",
    ] {
        assert!(
            secret_keys.contains(shared),
            "{shared} is not in the Secret"
        );
    }
    let probe = |which: &str| {
        let get = &container[which]["httpGet"];
        assert!(
            ports.contains_key(&text(&get["port"])),
            "{which}: no such port"
        );
        text(&get["path"])
    };
    assert_eq!(probe("livenessProbe"), "/healthz");
    assert_eq!(probe("readinessProbe"), "/readyz");
    let volumes: BTreeSet<String> = pod["volumes"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|v| text(&v["name"]))
        .collect();
    let mounts = container["volumeMounts"].as_sequence().unwrap();
    assert!(mounts.iter().any(|m| text(&m["mountPath"]) == "/data"));
    for mount in mounts {
        assert!(volumes.contains(&text(&mount["name"])));
    }

    let services = of_kind("Service");
    let targets: BTreeSet<String> = services
        .iter()
        .flat_map(|s| {
            for (key, value) in s["spec"]["selector"].as_mapping().unwrap() {
                assert_eq!(labels.get(key), Some(value), "a Service misses the pods");
            }
            s["spec"]["ports"]
                .as_sequence()
                .unwrap()
                .iter()
                .map(|p| text(&p["targetPort"]))
                .collect::<Vec<_>>()
        })
        .collect();
    assert_eq!(
        targets,
        BTreeSet::from(["http".to_owned(), "metrics".to_owned()])
    );
}
