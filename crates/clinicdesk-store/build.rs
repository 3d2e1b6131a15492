//! Embeds `migrations/sqlite/NNNN_name.sql` in version order, refusing gaps and duplicates.

use std::path::PathBuf;

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap());
    let folder = manifest
        .join("../../migrations/sqlite")
        .canonicalize()
        .expect("migrations/sqlite exists");
    println!("cargo:rerun-if-changed={}", folder.display());
    let mut found: Vec<(u32, String, PathBuf)> = Vec::new();
    for entry in std::fs::read_dir(&folder).expect("read migrations/sqlite") {
        let path = entry.unwrap().path();
        println!("cargo:rerun-if-changed={}", path.display());
        if path.extension().and_then(|e| e.to_str()) != Some("sql") {
            continue;
        }
        let stem = path.file_stem().unwrap().to_str().unwrap().to_owned();
        let (number, name) = stem
            .split_once('_')
            .unwrap_or_else(|| panic!("migration {stem} is not named NNNN_name.sql"));
        let version: u32 = number
            .parse()
            .unwrap_or_else(|_| panic!("migration {stem} does not start with a number"));
        found.push((version, name.to_owned(), path));
    }
    found.sort();
    for (index, (version, name, _)) in found.iter().enumerate() {
        assert_eq!(
            *version as usize,
            index + 1,
            "migration {version}_{name}: versions must run 1, 2, 3… without gaps"
        );
    }
    let mut code = String::from("/// The migrations in `migrations/sqlite/`, in version order.\npub const EMBEDDED_MIGRATIONS: &[Migration] = &[\n");
    for (version, name, path) in &found {
        code.push_str(&format!(
            "    Migration {{ version: {version}, name: {name:?}, sql: include_str!({:?}) }},\n",
            path.display().to_string()
        ));
    }
    code.push_str("];\n");
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap()).join("embedded_migrations.rs");
    std::fs::write(out, code).unwrap();
}
