//! Records moving between clinics through the CLI, as a clinic's administrator would script it:
//! one clinic exports FHIR, another imports it (twice: nothing new the second time), a file that
//! is not FHIR changes nothing (exit 5, the file named), and a de-identified export for research
//! holds no names and says what it did.

mod support;

use support::{last_line, stderr, Cli, ADMIN_PASSWORD, STAFF_PASSWORD as STAFF};

fn ndjson_files(folder: &std::path::Path) -> Vec<String> {
    let mut files: Vec<String> = std::fs::read_dir(folder)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "ndjson"))
        .map(|path| path.display().to_string())
        .collect();
    files.sort();
    files
}

#[test]
fn one_clinic_exports_another_imports_once_and_a_research_copy_is_de_identified() {
    let riverside = Cli::clinic(&[("frank", "front_desk"), ("mona", "manager")]);
    let ngozi = riverside.add_patient("Ngozi", "Okafor", "1984-03-27");
    riverside.add_patient("Hans", "Weberling", "1951-12-24");
    let out = tempfile::tempdir().unwrap();
    let export = out.path().join("riverside");
    let written = riverside.ok(
        &[
            "fhir",
            "export",
            "--out",
            export.to_str().unwrap(),
            "--as",
            "mona",
        ],
        STAFF,
    );
    assert!(written.contains("Patient.ndjson: 2"), "{written}");
    // Identifiable records: readable by whoever exported them, nobody else on the computer.
    use std::os::unix::fs::PermissionsExt;
    let mode =
        |path: &std::path::Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&export), 0o700);
    assert_eq!(mode(&export.join("Patient.ndjson")), 0o600);

    let hillside = Cli::clinic(&[("frank", "front_desk")]);
    let files = ndjson_files(&export);
    let mut import = vec!["fhir", "import"];
    import.extend(files.iter().map(String::as_str));
    import.extend(["--source", "riverside", "--as", "admin"]);
    let report = hillside.ok(&import, ADMIN_PASSWORD);
    assert!(report.contains("Imported 2 patients"), "{report}");
    let again = hillside.ok(&import, ADMIN_PASSWORD);
    assert!(again.contains("Imported 0 patients"), "{again}");
    assert!(
        again.contains("Already in this store (left as they are): 2 patients"),
        "{again}"
    );
    // The front desk finds Ngozi under her MRN (it was free in this clinic, so she kept it).
    let hits = hillside.json(&["patient", "search", "okafor", "--as", "frank"]);
    assert_eq!(hits[0]["mrn"], ngozi.as_str());

    // A file that is not FHIR: nothing is imported, exit 5, the file named.
    let photo = out.path().join("scan.jpg");
    std::fs::write(&photo, [0xff, 0xd8, 0xff, 0xe0, 0, 16]).unwrap();
    let mut with_photo = vec!["fhir", "import", files[0].as_str(), photo.to_str().unwrap()];
    with_photo.extend(["--source", "other", "--as", "admin"]);
    let refused = hillside.run(&with_photo, ADMIN_PASSWORD);
    assert_eq!(refused.status.code(), Some(5), "{}", stderr(&refused));
    assert!(
        stderr(&refused).contains("scan.jpg"),
        "{}",
        stderr(&refused)
    );

    // A front desk may not import.
    let mut as_frank = vec!["fhir", "import"];
    as_frank.extend(files.iter().map(String::as_str));
    as_frank.extend(["--as", "frank"]);
    assert_eq!(hillside.run(&as_frank, STAFF).status.code(), Some(4));

    // For research: no names, a manifest.
    let research = out.path().join("research");
    let said = riverside.ok(
        &[
            "fhir",
            "export",
            "--deidentify",
            "--out",
            research.to_str().unwrap(),
            "--as",
            "mona",
        ],
        STAFF,
    );
    assert!(last_line(&said).contains("de-identified"), "{said}");
    let patients = std::fs::read_to_string(research.join("Patient.ndjson")).unwrap();
    assert_eq!(patients.lines().count(), 2);
    for identifying in ["Ngozi", "Okafor", "Weberling", "1984-03-27", ngozi.as_str()] {
        assert!(
            !patients.contains(identifying),
            "{identifying} in {patients}"
        );
    }
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(research.join("manifest.json")).unwrap())
            .unwrap();
    assert_eq!(
        manifest["method"],
        "HIPAA Safe Harbor, 45 CFR 164.514(b)(2)"
    );
}
