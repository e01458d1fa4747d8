//! `mmbpf dump (PINNED_PATH | --id N) [--json] [--watch SECS]`: the non-zero elements of an
//! existing array map, read through `mmap`.

use std::time::{Duration, Instant};

use mmbpf::map::Map;

use crate::args::{DumpArgs, MapSource};
use crate::bytes_view::BytesView;
use crate::json::Json;
use crate::maps::{self, ReadVia};
use crate::output;
use crate::{CmdResult, Failure};

/// Run `dump`.
pub fn run(a: &DumpArgs) -> CmdResult {
    let map = match &a.source {
        MapSource::Pinned(p) => Map::from_pin(p)?,
        MapSource::Id(id) => Map::from_id(*id)?,
    };
    let info = map.info().clone();
    if !maps::listable(&info) {
        return Err(Failure::new(format!(
            "map \"{}\" (id {}) is a {} map with key_size {}; dump reads array maps",
            info.name,
            info.id,
            maps::type_name(info.map_type),
            info.key_size
        )));
    }
    // The view is made once; every refresh below is memory loads only.
    let view = if info.is_mmapable() {
        Some(BytesView::map_ro(&map)?)
    } else {
        None
    };
    if a.watch.is_some() && view.is_none() {
        return Err(Failure::new(format!(
            "--watch needs a map that can be read through mmap; map \"{}\" (id {}) was not \
             created with BPF_F_MMAPABLE (flags 1024)",
            info.name, info.id
        )));
    }
    let name = if info.name.is_empty() {
        format!("id{}", info.id)
    } else {
        info.name.clone()
    };
    let start = Instant::now();
    let refreshes = a.watch.unwrap_or(0);
    for k in 0..=refreshes {
        if k > 0 {
            let due = start + Duration::from_secs(k.into());
            if let Some(wait) = due.checked_duration_since(Instant::now()) {
                std::thread::sleep(wait);
            }
        }
        let (entries, via) = match &view {
            Some(v) => (maps::entries_from_view(v)?, ReadVia::Mmap),
            None => (maps::entries_by_syscalls(&map)?, ReadVia::Syscalls),
        };
        let text = if a.json {
            let mut m = Json::object();
            m.insert(name.clone(), maps::to_json(&info, Some(&entries)));
            let mut t = Json::object().with("maps", m).to_text();
            t.push('\n');
            t
        } else {
            let mut t = String::new();
            if a.watch.is_some() {
                t.push_str(&format!("--- {}s\n", k));
            }
            maps::to_text(&name, &info, Some(&entries), Some(via), &mut t);
            t
        };
        output::print(&text)?;
    }
    Ok(())
}
