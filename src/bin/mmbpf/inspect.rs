//! `mmbpf inspect OBJ [--json]`: what an object holds, from parsing alone (no kernel).

use std::path::Path;

use mmbpf::elf::{ObjectSpec, ProgramSpec};
use mmbpf::map::{MapFlags, MapSpec};

use crate::json::Json;
use crate::{output, CmdResult, Failure};

/// Read and parse an object file; errors name the file.
pub fn load_spec(path: &Path) -> Result<(Vec<u8>, ObjectSpec), Failure> {
    let bytes = read_object(path)?;
    let spec = mmbpf::elf::parse(&bytes)
        .map_err(|e| Failure::from(e.context(format_args!("{}", path.display()))))?;
    Ok((bytes, spec))
}

/// Read an object file; the error names it.
pub fn read_object(path: &Path) -> Result<Vec<u8>, Failure> {
    std::fs::read(path).map_err(|e| {
        Failure::new(format!(
            "reading object file {:?}: {e}",
            path.display().to_string()
        ))
    })
}

/// Run `inspect`.
pub fn run(path: &Path, json: bool) -> CmdResult {
    let (_, spec) = load_spec(path)?;
    let page = mmbpf::sys::page_size();
    let text = if json {
        let mut t = to_json(&spec, page).to_text();
        t.push('\n');
        t
    } else {
        to_text(&spec, page)
    };
    output::print(&text)
}

/// The number of instructions of the program's own function (without the subprograms the
/// loader appends), as in the object file.
pub fn own_insns(p: &ProgramSpec) -> usize {
    p.subprograms
        .iter()
        .map(|(_, start)| *start)
        .min()
        .unwrap_or(p.insns.len())
        .min(p.insns.len())
}

fn mmapable(m: &MapSpec) -> bool {
    m.flags.contains(MapFlags::MMAPABLE)
}

/// `mmap_len` for mmapable maps.
fn mmap_len(m: &MapSpec, page: usize) -> Option<usize> {
    if mmapable(m) {
        m.mmap_len(page)
    } else {
        None
    }
}

/// `{"programs":[...],"maps":[...],"globals":[...]}`.
pub fn to_json(spec: &ObjectSpec, page: usize) -> Json {
    let programs = spec
        .programs
        .iter()
        .map(|p| {
            Json::object()
                .with("name", p.name.as_str())
                .with("section", p.section.as_str())
                .with("type", p.kind.type_name())
                .with("insns", own_insns(p))
        })
        .collect::<Vec<_>>();
    let maps = spec
        .maps
        .iter()
        .map(|m| {
            Json::object()
                .with("name", m.name.as_str())
                .with("type", m.map_type.to_string())
                .with("key_size", m.key_size)
                .with("value_size", m.value_size)
                .with("max_entries", m.max_entries)
                .with("flags", m.flags.bits())
                .with("mmapable", mmapable(m))
                .with("stride", m.stride())
                .with("mmap_len", mmap_len(m, page))
        })
        .collect::<Vec<_>>();
    let globals = spec
        .globals
        .iter()
        .map(|g| {
            Json::object()
                .with("name", g.name.as_str())
                .with("section", g.section.as_str())
                .with("offset", g.offset)
                .with("size", g.size)
        })
        .collect::<Vec<_>>();
    Json::object()
        .with("programs", programs)
        .with("maps", maps)
        .with("globals", globals)
}

/// Aligned tables of programs, maps and globals.
pub fn to_text(spec: &ObjectSpec, page: usize) -> String {
    let mut out = String::new();
    out.push_str(&format!("programs ({}):\n", spec.programs.len()));
    let rows: Vec<Vec<String>> = spec
        .programs
        .iter()
        .map(|p| {
            let own = own_insns(p);
            let mut insns = own.to_string();
            if p.insns.len() > own {
                let subs: Vec<&str> = p.subprograms.iter().map(|(n, _)| n.as_str()).collect();
                insns.push_str(&format!(
                    " (+{} in {})",
                    p.insns.len() - own,
                    subs.join(", ")
                ));
            }
            vec![
                p.name.clone(),
                p.section.clone(),
                p.kind.type_name().to_string(),
                insns,
            ]
        })
        .collect();
    table(&mut out, &["NAME", "SECTION", "TYPE", "INSNS"], &rows);
    out.push_str(&format!("maps ({}):\n", spec.maps.len()));
    let rows: Vec<Vec<String>> = spec
        .maps
        .iter()
        .map(|m| {
            vec![
                m.name.clone(),
                m.map_type.to_string(),
                m.key_size.to_string(),
                m.value_size.to_string(),
                m.max_entries.to_string(),
                format!("{:#x}", m.flags.bits()),
                if mmapable(m) { "yes" } else { "no" }.to_string(),
                m.stride().to_string(),
                mmap_len(m, page).map_or_else(|| "-".to_string(), |l| l.to_string()),
            ]
        })
        .collect();
    table(
        &mut out,
        &[
            "NAME",
            "TYPE",
            "KEY_SIZE",
            "VALUE_SIZE",
            "MAX_ENTRIES",
            "FLAGS",
            "MMAPABLE",
            "STRIDE",
            "MMAP_LEN",
        ],
        &rows,
    );
    out.push_str(&format!("globals ({}):\n", spec.globals.len()));
    let rows: Vec<Vec<String>> = spec
        .globals
        .iter()
        .map(|g| {
            vec![
                g.name.clone(),
                g.section.clone(),
                g.offset.to_string(),
                g.size.to_string(),
            ]
        })
        .collect();
    table(&mut out, &["NAME", "SECTION", "OFFSET", "SIZE"], &rows);
    out
}

/// Indented columns separated by two spaces; the last column is not padded.
pub fn table(out: &mut String, header: &[&str], rows: &[Vec<String>]) {
    if rows.is_empty() {
        out.push_str("  (none)\n");
        return;
    }
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for r in rows {
        for (w, c) in widths.iter_mut().zip(r) {
            *w = (*w).max(c.chars().count());
        }
    }
    let mut line = |cells: &mut dyn Iterator<Item = &str>| {
        let mut l = String::from(" ");
        for (i, c) in cells.enumerate() {
            l.push(' ');
            l.push_str(c);
            if i + 1 < widths.len() {
                l.push_str(&" ".repeat(widths[i] - c.chars().count() + 1));
            }
        }
        out.push_str(l.trim_end());
        out.push('\n');
    };
    line(&mut header.iter().copied());
    for r in rows {
        line(&mut r.iter().map(String::as_str));
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn table_alignment() {
        let mut out = String::new();
        super::table(
            &mut out,
            &["A", "BB"],
            &[
                vec!["xyz".into(), "1".into()],
                vec!["é".into(), "22".into()],
            ],
        );
        assert_eq!(out, "  A    BB\n  xyz  1\n  é    22\n");
        let mut out = String::new();
        super::table(&mut out, &["A"], &[]);
        assert_eq!(out, "  (none)\n");
    }
}
