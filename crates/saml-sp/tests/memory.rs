//! Peak memory of validating a large signed Response, as a multiple of the document size
//! (target ≤ 20×). Linux only (reads `VmHWM` from /proc). The measurement runs in a child
//! process so that building and signing the document does not set the high-water mark.

mod common;

use std::process::Command;

use common::saml::*;
use idforge_saml_sp::response::{validate_response, RequestCheck};

const DOC_ENV: &str = "IDFORGE_SAML_MEMORY_DOC";

fn vm_hwm_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// The child: validates the document named by `IDFORGE_SAML_MEMORY_DOC` and prints the growth.
#[test]
fn child_measure() {
    let Ok(path) = std::env::var(DOC_ENV) else {
        return;
    };
    let xml = std::fs::read(&path).expect("doc");
    let trusted = idp_from_cert(&std::fs::read(format!("{path}.pem")).expect("cert"));
    let before = vm_hwm_kib().expect("VmHWM");
    let v = validate_response(
        &xml,
        &sp(),
        &trusted,
        &RequestCheck::Exact("_req1".into()),
        now(),
    );
    let after = vm_hwm_kib().expect("VmHWM");
    assert!(v.is_ok(), "{v:?}");
    println!("HWM-GROWTH-KIB {}", after.saturating_sub(before));
}

fn idp_from_cert(pem: &[u8]) -> idforge_saml_sp::response::IdentityProvider {
    idforge_saml_sp::response::IdentityProvider {
        entity_id: IDP.into(),
        signing_keys: idforge_saml_sp::response::TrustedKey::from_certificate_pem(pem)
            .expect("pem"),
    }
}

#[test]
fn peak_memory_is_bounded_by_20x_the_document() {
    if std::env::var(DOC_ENV).is_ok() || vm_hwm_kib().is_none() {
        println!("SKIP peak memory: child process or no /proc/self/status");
        return;
    }
    let mut s = spec();
    s.padding = 900 * 1024;
    let xml = idp().signed_response(&s, true, false).expect("sign");
    let dir = std::env::temp_dir().join(format!("idforge-saml-mem-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("mkdir");
    let path = dir.join("doc.xml");
    std::fs::write(&path, &xml).expect("write");
    std::fs::write(dir.join("doc.xml.pem"), idp().certificate_pem()).expect("write");
    let out = Command::new(std::env::current_exe().expect("exe"))
        .args([
            "--exact",
            "child_measure",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(DOC_ENV, &path)
        .output()
        .expect("child");
    let _ = std::fs::remove_dir_all(&dir);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "child failed: {stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let kib: u64 = stdout
        .lines()
        .find_map(|l| l.split("HWM-GROWTH-KIB ").nth(1))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no measurement in child output: {stdout}"));
    let ratio = (kib * 1024) as f64 / xml.len() as f64;
    println!("validating a {} KiB signed Response grew the peak RSS by {kib} KiB: {ratio:.1}x the document", xml.len() / 1024);
    assert!(
        ratio <= 20.0,
        "peak memory {ratio:.1}x the document size (target <= 20x)"
    );
}
