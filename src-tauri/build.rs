//! Points tauri-build at the repository's root `tauri.conf.json` (the only Tauri
//! config) and hides our bundled SQLite from WebKitGTK's.

fn main() {
    let manifest_dir =
        std::path::PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let root = manifest_dir
        .parent()
        .expect("src-tauri sits in the workspace root");
    // tauri-build reads tauri.conf.json from the current directory; paths inside it
    // (frontendDist, icons) are then relative to the repository root.
    std::env::set_current_dir(root).expect("workspace root is readable");
    println!(
        "cargo:rerun-if-changed={}",
        root.join("tauri.conf.json").display()
    );
    // rusqlite's bundled SQLite (via herald-client's cache) exports symbols that
    // clash with the system SQLite WebKitGTK loads; keep ours private to the binary.
    println!("cargo:rustc-link-arg-bins=-Wl,--exclude-libs,ALL");
    tauri_build::build();
}
