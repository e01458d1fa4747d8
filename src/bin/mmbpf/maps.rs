//! Reading a map's non-zero elements (through mmap when possible) and showing them as text or
//! JSON; shared by `run` and `dump`.

use mmbpf::map::{Map, MapInfo, MapType};

use crate::bytes_view::BytesView;
use crate::json::Json;
use crate::values;

/// How the elements were read.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum ReadVia {
    /// Memory loads from the mapping.
    Mmap,
    /// One `BPF_MAP_LOOKUP_ELEM` per element.
    Syscalls,
}

/// The non-zero elements of an array: `(index, value bytes)`.
pub type Entries = Vec<(u32, Vec<u8>)>;

/// Non-zero elements from a byte view (memory loads only).
pub fn entries_from_view(view: &BytesView) -> mmbpf::Result<Entries> {
    view.nonzero()
}

/// Non-zero elements by one lookup per index.
pub fn entries_by_syscalls(map: &Map) -> mmbpf::Result<Entries> {
    let mut out = Vec::new();
    for i in 0..map.info().max_entries {
        let v = map.lookup_bytes(&i.to_ne_bytes())?;
        if !values::is_zero(&v) {
            out.push((i, v));
        }
    }
    Ok(out)
}

/// Whether elements of this map can be listed (arrays that are not per-CPU).
pub fn listable(info: &MapInfo) -> bool {
    info.map_type == MapType::ARRAY && info.key_size == 4
}

/// The map's type name (`array`, `hash`, or `map_type(N)`).
pub fn type_name(t: MapType) -> String {
    t.to_string()
}

/// `{"type":...,"key_size":...,"value_size":...,"max_entries":...,"mmapable":...,"entries":{...}}`.
pub fn to_json(info: &MapInfo, entries: Option<&Entries>) -> Json {
    let mut j = Json::object()
        .with("type", type_name(info.map_type))
        .with("key_size", info.key_size)
        .with("value_size", info.value_size)
        .with("max_entries", info.max_entries)
        .with("mmapable", info.is_mmapable());
    if let Some(entries) = entries {
        let mut e = Json::object();
        for (i, v) in entries {
            e.insert(i.to_string(), values::to_json(v));
        }
        j.insert("entries", e);
    }
    j
}

/// `map NAME: array, key 4, value 8, 1024 entries, flags 0x400 (mmapable)` and one line
/// per non-zero element.
pub fn to_text(
    name: &str,
    info: &MapInfo,
    entries: Option<&Entries>,
    via: Option<ReadVia>,
    out: &mut String,
) {
    let via = match via {
        Some(ReadVia::Mmap) => ", read through mmap",
        Some(ReadVia::Syscalls) => ", read with syscalls (not mmapable)",
        None => "",
    };
    out.push_str(&format!(
        "map {name}: {}, key {}, value {}, {} entries, flags {:#x}{}{via}\n",
        type_name(info.map_type),
        info.key_size,
        info.value_size,
        info.max_entries,
        info.flags.bits(),
        if info.is_mmapable() {
            " (mmapable)"
        } else {
            ""
        },
    ));
    match entries {
        None => out.push_str("  (elements of this map type are not listed)\n"),
        Some(e) if e.is_empty() => out.push_str("  (all elements are zero)\n"),
        Some(e) => {
            for (i, v) in e {
                out.push_str(&format!("  [{i}] = {}\n", values::to_text(v)));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mmbpf::map::MapFlags;

    fn info() -> MapInfo {
        MapInfo {
            map_type: MapType::ARRAY,
            id: 7,
            key_size: 4,
            value_size: 8,
            max_entries: 16,
            flags: MapFlags::MMAPABLE,
            name: "m".into(),
            btf_id: 0,
        }
    }

    #[test]
    fn json_shape() {
        let e = vec![(3, 42u64.to_le_bytes().to_vec())];
        assert_eq!(
            to_json(&info(), Some(&e)).to_text(),
            r#"{"type":"array","key_size":4,"value_size":8,"max_entries":16,"mmapable":true,"entries":{"3":42}}"#
        );
    }

    #[test]
    fn text_shape() {
        let mut s = String::new();
        to_text(
            "m",
            &info(),
            Some(&vec![(3, 42u64.to_le_bytes().to_vec())]),
            Some(ReadVia::Mmap),
            &mut s,
        );
        assert_eq!(s, "map m: array, key 4, value 8, 16 entries, flags 0x400 (mmapable), read through mmap\n  [3] = 42\n");
    }
}
