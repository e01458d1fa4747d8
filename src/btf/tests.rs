use super::*;
use crate::error::ErrorKind;

/// Build a `.BTF` blob from type-section words and a string section.
fn build(words: &[u32], strings: &[u8]) -> Vec<u8> {
    let type_len = (words.len() * 4) as u32;
    let mut b = Vec::new();
    b.extend_from_slice(&BTF_MAGIC.to_le_bytes());
    b.push(1);
    b.push(0);
    for w in [24u32, 0, type_len, type_len, strings.len() as u32] {
        b.extend_from_slice(&w.to_le_bytes());
    }
    for w in words {
        b.extend_from_slice(&w.to_le_bytes());
    }
    b.extend_from_slice(strings);
    b
}

fn info(kind: u32, vlen: u32) -> u32 {
    (kind << 24) | vlen
}

const STRS: &[u8] = b"\0int\0u32t\0arr\0s\0a\0b\0";
// Offsets: "int"=1, "u32t"=5, "arr"=10, "s"=14, "a"=16, "b"=18.

/// 1: int (4 bytes), 2: typedef u32t -> 1, 3: array of 2 x [5] (index 1),
/// 4: const -> 3, 5: struct s { a: 1 @0, b: 4 @32 } size 24, 6: ptr -> 5.
fn sample() -> Vec<u32> {
    alloc::vec![
        1,
        info(1, 0),
        4,
        32, // 1 INT
        5,
        info(8, 0),
        1, // 2 TYPEDEF
        0,
        info(3, 0),
        0,
        2,
        1,
        5, // 3 ARRAY of typedef x5
        0,
        info(10, 0),
        3, // 4 CONST
        14,
        info(4, 2),
        24,
        16,
        1,
        0,
        18,
        4,
        32, // 5 STRUCT
        0,
        info(2, 0),
        5, // 6 PTR
    ]
}

#[test]
fn parses_and_resolves_sizes() {
    let btf = Btf::parse(&build(&sample(), STRS)).unwrap();
    assert_eq!(btf.len(), 7);
    assert_eq!(btf.type_name(1).unwrap(), "int");
    assert_eq!(btf.type_by_id(5).unwrap().kind, BtfKind::Struct);
    assert_eq!(btf.type_by_id(5).unwrap().members().len(), 2);
    assert_eq!(btf.resolve_size(1).unwrap(), 4);
    assert_eq!(btf.resolve_size(2).unwrap(), 4);
    assert_eq!(btf.resolve_size(3).unwrap(), 20);
    assert_eq!(btf.resolve_size(4).unwrap(), 20);
    assert_eq!(btf.resolve_size(5).unwrap(), 24);
    assert_eq!(btf.resolve_size(6).unwrap(), 8);
    assert_eq!(btf.skip_mods_and_typedefs(4).unwrap(), 3);
    assert_eq!(btf.type_display(4).unwrap(), "const u32t[5]");
    assert_eq!(btf.type_display(6).unwrap(), "struct s *");
    assert_eq!(btf.find_by_name(BtfKind::Typedef, "u32t"), Some(2));
    assert_eq!(btf.type_by_id(5).unwrap().offset, 24 + 16 + 12 + 24 + 12);
    let e = btf.type_by_id(7).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Malformed);
    assert!(e.message().contains("type id 7"), "{e}");
    assert!(btf.resolve_size(0).is_err());
}

#[test]
fn bad_type_id_is_malformed_and_named() {
    let mut w = sample();
    w[6] = 99; // typedef -> 99
    let e = Btf::parse(&build(&w, STRS)).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Malformed);
    assert!(
        e.message().contains("type id 2") && e.message().contains("type id 99"),
        "{e}"
    );
}

#[test]
fn cycles_end_in_an_error() {
    // 1: typedef -> 2, 2: const -> 1.
    let w = [5, info(8, 0), 2, 0, info(10, 0), 1];
    let btf = Btf::parse(&build(&w, STRS)).unwrap();
    for id in [1, 2] {
        let e = btf.resolve_size(id).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Malformed);
        assert!(e.message().contains("cycle"), "{e}");
        assert!(btf.skip_mods_and_typedefs(id).is_err());
    }
    // An array of itself.
    let w = [0, info(3, 0), 0, 1, 1, 2];
    let btf = Btf::parse(&build(&w, STRS)).unwrap();
    assert!(btf.resolve_size(1).is_err());
}

#[test]
fn array_size_overflow() {
    let w = [1, info(1, 0), 8, 64, 0, info(3, 0), 0, 1, 1, u32::MAX];
    let btf = Btf::parse(&build(&w, STRS)).unwrap();
    let e = btf.resolve_size(2).unwrap_err();
    assert!(e.message().contains("overflows"), "{e}");
}

#[test]
fn header_and_section_checks() {
    let good = build(&sample(), STRS);
    // Every truncation fails cleanly.
    for cut in 0..good.len() {
        assert!(Btf::parse(&good[..cut]).is_err(), "cut at {cut}");
    }
    let mut be = good.clone();
    be.swap(0, 1);
    assert_eq!(Btf::parse(&be).unwrap_err().kind(), ErrorKind::Unsupported);
    let mut v2 = good.clone();
    v2[2] = 2;
    assert_eq!(Btf::parse(&v2).unwrap_err().kind(), ErrorKind::Unsupported);
    let mut long = good.clone();
    long[12..16].copy_from_slice(&u32::MAX.to_le_bytes()); // type_len
    assert!(Btf::parse(&long)
        .unwrap_err()
        .message()
        .contains("past the end"));
    let mut kind = good.clone();
    kind[24 + 7] = 25; // kind of type 1
    let e = Btf::parse(&kind).unwrap_err();
    assert!(
        e.message().contains("unknown kind 25") && e.message().contains("type id 1"),
        "{e}"
    );
    let mut vlen = good.clone();
    let struct_info = 24 + 16 + 12 + 24 + 12 + 4;
    vlen[struct_info] = 200;
    assert!(Btf::parse(&vlen)
        .unwrap_err()
        .message()
        .contains("vlen 200"));
    let mut name = good.clone();
    name[24..28].copy_from_slice(&1000u32.to_le_bytes());
    assert!(Btf::parse(&name)
        .unwrap_err()
        .message()
        .contains("outside the string section"));
    let mut nul = good.clone();
    let last = nul.len() - 1;
    nul[last] = b'x';
    assert!(Btf::parse(&nul).is_err());
}

#[test]
fn set_datasec_patches_bytes() {
    // 1: int, 2: VAR "a" -> 1, 3: DATASEC "s" size 0 with one var.
    let w = [
        1,
        info(1, 0),
        4,
        32,
        16,
        info(14, 0),
        1,
        1,
        14,
        info(15, 1),
        0,
        2,
        0,
        4,
    ];
    let mut raw = build(&w, STRS);
    let mut btf = Btf::parse(&raw).unwrap();
    let (id, ds) = btf.datasec("s").unwrap();
    assert_eq!(id, 3);
    assert_eq!(
        ds.secinfos(),
        &[BtfVarSecinfo {
            type_id: 2,
            offset: 0,
            size: 4
        }]
    );
    let v = alloc::vec![BtfVarSecinfo {
        type_id: 2,
        offset: 8,
        size: 4
    }];
    btf.set_datasec(&mut raw, 3, 16, v.clone()).unwrap();
    let again = Btf::parse(&raw).unwrap();
    assert_eq!(again, btf);
    assert_eq!(again.type_by_id(3).unwrap().size(), Some(16));
    assert_eq!(again.type_by_id(3).unwrap().secinfos(), &v[..]);
    assert!(btf.set_datasec(&mut raw, 1, 16, v).is_err());
}

#[test]
fn every_kind_is_skipped_correctly() {
    // ENUM(2 values), FUNC_PROTO(1 param), FUNC, FLOAT, DECL_TAG, TYPE_TAG, ENUM64(1), FWD,
    // VOLATILE, RESTRICT, UNION(1), then INT: the INT must be found at the right id.
    let w = [
        1,
        info(6, 2),
        4,
        16,
        0,
        18,
        1, // 1 ENUM
        0,
        info(13, 1),
        13,
        16,
        13, // 2 FUNC_PROTO ret int(13)
        1,
        info(12, 0),
        2, // 3 FUNC
        1,
        info(16, 0),
        8, // 4 FLOAT
        1,
        info(17, 0),
        3,
        u32::MAX, // 5 DECL_TAG
        1,
        info(18, 0),
        13, // 6 TYPE_TAG
        1,
        info(19, 1),
        8,
        16,
        1,
        2, // 7 ENUM64
        14,
        info(7, 0),
        0, // 8 FWD
        0,
        info(9, 0),
        13, // 9 VOLATILE
        0,
        info(11, 0),
        6, // 10 RESTRICT
        14,
        info(5, 1),
        4,
        16,
        13,
        0, // 11 UNION
        0,
        info(14, 0),
        0,
        1, // 12 VAR -> void (odd but parseable)
        1,
        info(1, 0),
        4,
        32, // 13 INT
    ];
    let btf = Btf::parse(&build(&w, STRS)).unwrap();
    assert_eq!(btf.len(), 14);
    assert_eq!(btf.type_by_id(13).unwrap().kind, BtfKind::Int);
    assert_eq!(btf.resolve_size(10).unwrap(), 4);
    assert_eq!(btf.resolve_size(7).unwrap(), 8);
    assert_eq!(btf.resolve_size(11).unwrap(), 4);
    assert!(btf.resolve_size(3).is_err());
    match &btf.type_by_id(7).unwrap().data {
        BtfTypeData::Enum(v) => assert_eq!(v[0].value, 1 | (2 << 32)),
        other => panic!("{other:?}"),
    }
}
