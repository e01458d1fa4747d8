//! Maps and mmap views against the real kernel (issue: foundation).

mod common;

use std::process::Command;

use mmbpf::map::{ArrayMap, Map, MapFlags, MapSpec, MapType};
use mmbpf::ErrorKind;
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout};

/// A 12-byte value: stride 16 in the mmap region.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
#[repr(C)]
struct Triple {
    a: u32,
    b: u32,
    c: u32,
}

fn unique(prefix: &str) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    format!(
        "{prefix}{}_{}",
        std::process::id() % 10000,
        N.fetch_add(1, Ordering::Relaxed)
    )
}

#[test]
fn u64_mmap_writes_are_seen_by_syscalls_and_back() {
    require_bpf!("u64_mmap_writes_are_seen_by_syscalls_and_back");
    // The seed's canonical map: 1024 x u64, mmapable.
    let map = ArrayMap::<u64>::create_mmapable("seed_counts", 1024).unwrap();
    assert!(map.map().info().flags.contains(MapFlags::MMAPABLE));
    let view = map.mmap().unwrap();
    assert_eq!(view.len(), 1024);

    view.store(3, &42).unwrap();
    view.store(1023, &u64::MAX).unwrap();
    assert_eq!(map.get(3).unwrap(), 42);
    assert_eq!(map.get(1023).unwrap(), u64::MAX);
    assert_eq!(map.get(4).unwrap(), 0);

    map.set(7, &0xdead_beef).unwrap();
    assert_eq!(view.load(7).unwrap(), 0xdead_beef);

    let all = view.snapshot();
    assert_eq!(all.len(), 1024);
    assert_eq!((all[3], all[7], all[1023]), (42, 0xdead_beef, u64::MAX));
    assert_eq!(all.iter().filter(|&&v| v != 0).count(), 3);
    assert_eq!(
        map.read_all().unwrap(),
        all,
        "batch lookup and mmap snapshot agree"
    );

    // Counters: atomics on the shared page, seen by the kernel.
    view.atomic_u64(10)
        .unwrap()
        .fetch_add(5, std::sync::atomic::Ordering::Relaxed);
    assert_eq!(map.get(10).unwrap(), 5);

    let err = view.load(1024).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::OutOfBounds);
    assert_eq!(map.get(1024).unwrap_err().kind(), ErrorKind::OutOfBounds);
}

#[test]
fn twelve_byte_values_have_a_sixteen_byte_stride() {
    require_bpf!("twelve_byte_values_have_a_sixteen_byte_stride");
    let map = ArrayMap::<Triple>::create_mmapable("triples", 300).unwrap();
    let view = map.mmap().unwrap();
    assert_eq!(view.stride(), 16);
    let t = Triple {
        a: 1,
        b: 0xffff_ffff,
        c: 3,
    };
    view.store(299, &t).unwrap();
    assert_eq!(map.get(299).unwrap(), t);
    map.set(5, &Triple { a: 7, b: 8, c: 9 }).unwrap();
    assert_eq!(view.load(5).unwrap(), Triple { a: 7, b: 8, c: 9 });
    // Element 1 starts 16 bytes in: writing element 0 leaves it alone.
    view.store(
        0,
        &Triple {
            a: u32::MAX,
            b: u32::MAX,
            c: u32::MAX,
        },
    )
    .unwrap();
    assert_eq!(map.get(1).unwrap(), Triple::default());
    let mut out = vec![Triple::default(); 300];
    view.copy_to(&mut out).unwrap();
    assert_eq!(out[299], t);
    assert_eq!(out[5], Triple { a: 7, b: 8, c: 9 });
    assert_eq!(map.read_all().unwrap(), out);

    let values: Vec<Triple> = (0..300)
        .map(|i| Triple {
            a: i,
            b: i * 2,
            c: i * 3,
        })
        .collect();
    map.write_batch(0, &values).unwrap();
    assert_eq!(view.snapshot(), values);
}

#[test]
fn four_page_map_far_index() {
    require_bpf!("four_page_map_far_index");
    let map = ArrayMap::<u64>::create_mmapable("four_pages", 2048).unwrap();
    let view = map.mmap().unwrap();
    assert_eq!(
        view.region().len(),
        mmbpf::map::mmap_len(8, 2048, mmbpf::sys::page_size()).unwrap()
    );
    assert_eq!(2048 * 8, 4 * 4096, "four 4 KiB pages");
    view.store(2047, &77).unwrap();
    view.store(1536, &66).unwrap();
    assert_eq!(map.get(2047).unwrap(), 77);
    assert_eq!(map.get(1536).unwrap(), 66);
    map.set(1025, &55).unwrap();
    assert_eq!(view.load(1025).unwrap(), 55);
}

#[test]
fn value_type_must_match_value_size() {
    require_bpf!("value_type_must_match_value_size");
    let map = Map::create(&MapSpec::mmapable_array("mismatch", 12, 4)).unwrap();
    let err = ArrayMap::<u64>::new(map).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::TypeMismatch);
    assert!(err.to_string().contains("value_size 12"), "{err}");
    let hash = Map::create(&MapSpec::new("hashy", MapType::HASH, 4, 8, 4)).unwrap();
    assert_eq!(
        ArrayMap::<u64>::new(hash).unwrap_err().kind(),
        ErrorKind::TypeMismatch
    );
}

#[test]
fn names_are_checked_before_the_syscall() {
    let err = Map::create(&MapSpec::mmapable_array("a_name_of_16_byt", 8, 1)).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidArgument);
    assert!(err.to_string().contains("at most 15"), "{err}");
    let err = Map::create(&MapSpec::mmapable_array("bad-name", 8, 1)).unwrap_err();
    assert!(err.to_string().contains("[A-Za-z0-9_.]"), "{err}");
}

#[test]
fn non_mmapable_map_cannot_be_mapped() {
    require_bpf!("non_mmapable_map_cannot_be_mapped");
    let map =
        ArrayMap::<u64>::new(Map::create(&MapSpec::new("plain", MapType::ARRAY, 4, 8, 8)).unwrap())
            .unwrap();
    let err = map.mmap().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidState);
    assert!(err.to_string().contains("BPF_F_MMAPABLE"), "{err}");
    // The syscall path still works.
    map.set(1, &9).unwrap();
    assert_eq!(map.get(1).unwrap(), 9);
}

#[test]
fn frozen_maps_map_read_only() {
    require_bpf!("frozen_maps_map_read_only");
    let mut map = ArrayMap::<u64>::create_mmapable("frozen", 16).unwrap();
    map.set(2, &22).unwrap();

    // Freeze while a writable mapping exists: EBUSY, explained.
    let rw = map.mmap().unwrap();
    let err = map.map_mut().freeze().unwrap_err();
    assert_eq!(err.errno(), Some(mmbpf::Errno::EBUSY));
    assert_eq!(err.kind(), ErrorKind::InvalidState);
    assert!(err.to_string().contains("writable mmap"), "{err}");

    // Drop it, map read-only, freeze: fine.
    drop(rw);
    let ro = map.mmap_ro().unwrap();
    map.map_mut().freeze().unwrap();
    assert!(map.map().is_frozen());
    assert_eq!(ro.load(2).unwrap(), 22);

    // A writable mapping is now refused: by mmbpf up front, and by the kernel when asked
    // directly.
    let err = map.mmap().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidState);
    assert!(err.to_string().contains("frozen"), "{err}");
    let len = mmbpf::map::mmap_len(8, 16, mmbpf::sys::page_size()).unwrap();
    let err = mmbpf::mmap::Region::map(map.map().fd(), len, mmbpf::sys::Protection::ReadWrite)
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidState, "{err}");
    assert!(err.errno().is_some());

    // Syscall writes fail too, with a clear kind.
    let err = map.set(2, &1).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidState, "{err}");
    // A second read-only mapping works.
    assert_eq!(map.mmap_ro().unwrap().load(2).unwrap(), 22);
    // Frozen but programs may still write (no RDONLY_PROG): no borrowed view.
    assert_eq!(
        map.mmap_frozen().unwrap_err().kind(),
        ErrorKind::InvalidState
    );
}

#[test]
fn frozen_rdonly_prog_map_lends_slices() {
    require_bpf!("frozen_rdonly_prog_map_lends_slices");
    let spec = MapSpec::mmapable_array("ro_prog", 8, 600)
        .with_flags(MapFlags::MMAPABLE | MapFlags::RDONLY_PROG);
    let mut map = ArrayMap::<u64>::create(&spec).unwrap();
    map.set(599, &5).unwrap();
    // The kernel refuses writable mappings of RDONLY_PROG maps; mmbpf says so up front.
    assert_eq!(map.mmap().unwrap_err().kind(), ErrorKind::InvalidState);
    assert_eq!(
        map.mmap_frozen().unwrap_err().kind(),
        ErrorKind::InvalidState,
        "not frozen yet"
    );
    map.map_mut().freeze().unwrap();
    let frozen = map.mmap_frozen().unwrap();
    let slice: &[u64] = frozen.as_slice().unwrap();
    assert_eq!(slice.len(), 600);
    assert_eq!(slice[599], 5);
    assert_eq!(*frozen.get(599).unwrap(), 5);
}

#[test]
fn mapping_outlives_the_map_handle() {
    require_bpf!("mapping_outlives_the_map_handle");
    let map = ArrayMap::<u64>::create_mmapable("outlive", 8).unwrap();
    let id = map.map().info().id;
    assert_ne!(id, 0);
    let view = map.mmap().unwrap();
    drop(map);
    // The kernel keeps the map alive while mapped: it can still be opened by id.
    let again = ArrayMap::<u64>::new(Map::from_id(id).unwrap()).unwrap();
    view.store(4, &444).unwrap();
    assert_eq!(again.get(4).unwrap(), 444);
    drop(again);
    drop(view);
}

#[test]
fn open_by_pin_and_by_id() {
    require_bpf!("open_by_pin_and_by_id");
    let dir = common::bpffs();
    let name = unique("pin");
    let path = format!("{dir}/mmbpf_test_{name}");
    let map = ArrayMap::<u64>::create_mmapable(&name, 32).unwrap();
    map.set(31, &3131).unwrap();
    map.map().pin(&path).unwrap();
    let err = map.map().pin(&path).unwrap_err();
    assert_eq!(err.errno(), Some(mmbpf::Errno::EEXIST), "{err}");

    let pinned = Map::from_pin(&path).unwrap();
    let info = pinned.info().clone();
    assert_eq!(
        (
            info.map_type,
            info.key_size,
            info.value_size,
            info.max_entries
        ),
        (MapType::ARRAY, 4, 8, 32)
    );
    assert!(info.is_mmapable());
    assert_eq!(info.name, name);
    assert_eq!(info.id, map.map().info().id);
    let pinned = ArrayMap::<u64>::new(pinned).unwrap();
    assert_eq!(pinned.mmap().unwrap().load(31).unwrap(), 3131);

    let by_id = ArrayMap::<u64>::new(Map::from_id(info.id).unwrap()).unwrap();
    assert_eq!(by_id.mmap_ro().unwrap().load(31).unwrap(), 3131);
    std::fs::remove_file(&path).unwrap();

    let err = Map::from_pin(&path).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");
    let err = Map::from_id(u32::MAX).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");
}

#[test]
fn map_made_by_bpftool_is_read_through_mmap() {
    require_bpf!("map_made_by_bpftool_is_read_through_mmap");
    if Command::new("bpftool").arg("version").output().is_err() {
        common::unavailable(
            "map_made_by_bpftool_is_read_through_mmap",
            "bpftool is not installed (apt-get install bpftool)",
        );
        return;
    }
    let dir = common::bpffs();
    let name = unique("bt");
    let path = format!("{dir}/mmbpf_test_{name}");
    let status = Command::new("bpftool")
        .args([
            "map", "create", &path, "type", "array", "key", "4", "value", "8", "entries", "64",
            "name", &name, "flags", "1024",
        ])
        .status()
        .unwrap();
    assert!(status.success(), "bpftool map create failed");
    // key 5 = 0x2a (little endian u32 key, u64 value)
    let status = Command::new("bpftool")
        .args([
            "map", "update", "pinned", &path, "key", "5", "0", "0", "0", "value", "42", "0", "0",
            "0", "0", "0", "0", "0",
        ])
        .status()
        .unwrap();
    assert!(status.success(), "bpftool map update failed");

    let map = ArrayMap::<u64>::new(Map::from_pin(&path).unwrap()).unwrap();
    assert!(map.map().info().is_mmapable());
    let view = map.mmap().unwrap();
    assert_eq!(view.load(5).unwrap(), 42);
    view.store(6, &7).unwrap();
    let out = Command::new("bpftool")
        .args([
            "map", "lookup", "pinned", &path, "key", "6", "0", "0", "0", "-j",
        ])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("\"0x07\""),
        "bpftool sees the mmap write: {text}"
    );
    std::fs::remove_file(&path).unwrap();
}

#[test]
fn feature_probes_match_the_running_kernel() {
    require_bpf!("feature_probes_match_the_running_kernel");
    use mmbpf::probe::Feature;
    use mmbpf::sys::abi;
    let (maj, min, _) = common::kernel_version();
    let has = |since: (u32, u32)| Some((maj, min) >= since);
    assert_eq!(Feature::MmapableArrays.is_supported(), has((5, 5)));
    assert_eq!(Feature::ReadOnlyProgMaps.is_supported(), has((5, 2)));
    assert_eq!(Feature::MapFreeze.is_supported(), has((5, 2)));
    assert_eq!(Feature::BatchOps.is_supported(), has((5, 6)));
    assert_eq!(
        Feature::ProgramType(abi::BPF_PROG_TYPE_SOCKET_FILTER).is_supported(),
        Some(true)
    );
    assert_eq!(
        Feature::ProgramType(abi::BPF_PROG_TYPE_TRACEPOINT).is_supported(),
        Some(true)
    );
    assert_eq!(
        Feature::ProgramType(abi::BPF_PROG_TYPE_SYSCALL).is_supported(),
        has((5, 14))
    );
    assert_eq!(Feature::ProgramType(4242).is_supported(), Some(false));
}

#[test]
fn read_only_opens_read_but_do_not_write() {
    require_bpf!("read_only_opens_read_but_do_not_write");
    let name = unique("ro");
    let path = format!("{}/mmbpf_test_{name}", common::bpffs());
    let map = ArrayMap::<u64>::create_mmapable(&name, 8).unwrap();
    map.set(1, &11).unwrap();
    map.map().pin(&path).unwrap();
    let id = map.map().info().id;
    for ro in [
        Map::from_pin_read_only(&path).unwrap(),
        Map::from_id_with(id, mmbpf::map::Access::ReadOnly).unwrap(),
    ] {
        assert!(ro.is_read_only());
        let ro = ArrayMap::<u64>::new(ro).unwrap();
        assert_eq!(ro.get(1).unwrap(), 11);
        assert_eq!(ro.read_all().unwrap()[1], 11);
        // A read-only descriptor cannot be mapped at all (the kernel needs MAP_SHARED, which a
        // read-only file cannot give): mmbpf says so up front, and the kernel agrees.
        for err in [ro.mmap().unwrap_err(), ro.mmap_ro().unwrap_err()] {
            assert_eq!(err.kind(), ErrorKind::InvalidState);
            assert!(err.to_string().contains("opened read-only"), "{err}");
        }
        let len = mmbpf::map::mmap_len(8, 8, mmbpf::sys::page_size()).unwrap();
        assert!(
            mmbpf::mmap::Region::map(ro.map().fd(), len, mmbpf::sys::Protection::ReadOnly).is_err()
        );
        let err = ro.set(1, &12).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidState, "{err}");
    }
    assert_eq!(map.get(1).unwrap(), 11);
    std::fs::remove_file(&path).unwrap();
}
