//! Tests of the SoundFont reader on tiny SoundFonts written by the tests, intact and broken.

use super::sf2::{op, SampleType, Sf2};
use super::test_support::{build_sf2, find, sm24_byte, TempDir, TestSample, TestZone};
use super::DatasetError;

fn ramp(n: usize, step: i16) -> Vec<i16> {
    (0..n).map(|i| (i as i16).wrapping_mul(step)).collect()
}

fn tiny() -> Vec<u8> {
    let mut a = TestSample::new("First", ramp(100, 300), 60);
    a.sample_type = SampleType::LEFT;
    a.link = 1;
    let mut b = TestSample::new("Second", ramp(51, -500), 72);
    b.rate = 48_000;
    b.sample_type = SampleType::RIGHT;
    let z0 = TestZone { key_range: (0, 64), loops: true, ..TestZone::new(0) };
    let z1 = TestZone { key_range: (65, 127), root_override: Some(70), ..TestZone::new(1) };
    build_sf2(&[a, b], &[z0, z1], false)
}

/// Opens and reads every sample, as a consumer would.
fn read_all(path: &std::path::Path) -> Result<usize, DatasetError> {
    let sf2 = Sf2::open(path)?;
    let mut n = 0;
    for i in 0..sf2.samples.len() {
        n += sf2.read_sample(i)?.len();
    }
    let _ = super::vsco::select_strings(&sf2);
    Ok(n)
}

#[test]
fn reads_a_tiny_soundfont() {
    let dir = TempDir::new("sf2-tiny");
    let path = dir.write("tiny.sf2", &tiny());
    let sf2 = Sf2::open(&path).unwrap();
    assert_eq!(sf2.version, (2, 1));
    assert_eq!(sf2.name, "Test Bank");
    assert!(!sf2.is_24_bit());
    assert_eq!(sf2.sample_data_len(), 100 + 46 + 51 + 46);

    assert_eq!(sf2.samples.len(), 2);
    let (a, b) = (&sf2.samples[0], &sf2.samples[1]);
    assert_eq!((a.name.as_str(), a.start, a.end, a.original_pitch), ("First", 0, 100, 60));
    assert_eq!((a.loop_start, a.loop_end, a.relative_loop()), (25, 50, Some((25, 50))));
    assert!(a.sample_type.is_left() && a.sample_link == 1);
    assert_eq!((b.name.as_str(), b.start, b.end, b.sample_rate), ("Second", 146, 197, 48_000));
    assert!(b.sample_type.is_right());
    assert_eq!(b.relative_loop(), Some((12, 25)));

    assert_eq!(sf2.instruments.len(), 1);
    let inst = &sf2.instruments[0];
    assert_eq!(inst.name, "Test Inst");
    assert_eq!(inst.global.as_ref().unwrap().sample_modes(), Some(0));
    assert_eq!(inst.zones.len(), 2);
    assert_eq!(inst.zones[0].key_range(), Some((0, 64)));
    assert_eq!(inst.zones[0].sample_id(), Some(0));
    assert!(inst.zone_loops(&inst.zones[0]));
    assert_eq!(inst.zone_root_key(&inst.zones[0]), None);
    assert_eq!(inst.zones[1].key_range(), Some((65, 127)));
    assert_eq!(inst.zones[1].velocity_range(), None);
    assert!(!inst.zone_loops(&inst.zones[1]));
    assert_eq!(inst.zone_root_key(&inst.zones[1]), Some(70));
    assert_eq!(inst.generator(&inst.zones[1], op::SAMPLE_MODES), Some(0));

    assert_eq!(sf2.presets.len(), 1);
    let p = &sf2.presets[0];
    assert_eq!((p.name.as_str(), p.bank, p.preset), ("Test Preset", 0, 0));
    assert_eq!(p.zones.len(), 1);
    assert_eq!(p.zones[0].instrument_id(), Some(0));

    let first = sf2.read_sample(0).unwrap();
    let expected: Vec<f32> = ramp(100, 300).iter().map(|&v| f32::from(v) / 32768.0).collect();
    assert_eq!(first, expected);
    let second = sf2.read_sample(1).unwrap();
    assert_eq!(second.len(), 51);
    assert_eq!(second[3], -1500.0 / 32768.0);
    assert!(matches!(sf2.read_sample(2), Err(DatasetError::BadSample { .. })));
}

#[test]
fn reads_24_bit_samples() {
    let dir = TempDir::new("sf2-24");
    let mut a = TestSample::new("First", ramp(64, 401), 60);
    a.rate = 96_000;
    let b = TestSample::new("Second", ramp(10, -7), 61);
    let bytes = build_sf2(&[a, b], &[TestZone::new(0), TestZone::new(1)], true);
    let path = dir.write("deep.sf2", &bytes);
    let sf2 = Sf2::open(&path).unwrap();
    assert_eq!(sf2.version, (2, 4));
    assert!(sf2.is_24_bit());
    let audio = sf2.read_sample(1).unwrap();
    let start = sf2.samples[1].start as usize;
    for (i, (&got, &hi)) in audio.iter().zip(&ramp(10, -7)).enumerate() {
        let want = ((i32::from(hi) << 8) | i32::from(sm24_byte(start + i))) as f32 / 8_388_608.0;
        assert_eq!(got, want, "point {i}");
    }
}

#[test]
fn empty_file_is_an_error() {
    let dir = TempDir::new("sf2-empty");
    let path = dir.write("empty.sf2", &[]);
    let err = Sf2::open(&path).unwrap_err();
    assert!(matches!(err, DatasetError::NotSoundFont { .. }), "{err}");
    assert!(err.to_string().contains("empty.sf2"), "{err}");
}

#[test]
fn missing_file_is_an_io_error() {
    let dir = TempDir::new("sf2-missing");
    let err = Sf2::open(&dir.path().join("nope.sf2")).unwrap_err();
    assert!(matches!(err, DatasetError::Io { .. }), "{err}");
    assert!(err.to_string().contains("nope.sf2"), "{err}");
}

#[test]
fn wrong_magic_is_an_error() {
    let dir = TempDir::new("sf2-magic");
    let mut riff = tiny();
    riff[..4].copy_from_slice(b"RIFX");
    let err = Sf2::open(&dir.write("rifx.sf2", &riff)).unwrap_err();
    assert!(err.to_string().contains("'RIFX' instead of 'RIFF'"), "{err}");

    let mut wave = tiny();
    wave[8..12].copy_from_slice(b"WAVE");
    let err = Sf2::open(&dir.write("wave.sf2", &wave)).unwrap_err();
    assert!(err.to_string().contains("'WAVE'"), "{err}");

    let err = Sf2::open(&dir.write("text.sf2", b"this is not a soundfont at all")).unwrap_err();
    assert!(matches!(err, DatasetError::NotSoundFont { .. }), "{err}");
}

#[test]
fn every_truncation_is_an_error() {
    let dir = TempDir::new("sf2-trunc");
    let full = tiny();
    for len in 0..full.len() {
        let path = dir.write("cut.sf2", &full[..len]);
        let err = read_all(&path).expect_err(&format!("cut at {len} was accepted"));
        assert!(err.to_string().contains("cut.sf2"), "{err}");

        // The same cut with the RIFF size made to match, so the inner chunks are what is short.
        if len >= 12 {
            let mut fixed = full[..len].to_vec();
            fixed[4..8].copy_from_slice(&((len - 8) as u32).to_le_bytes());
            let path = dir.write("cut-fixed.sf2", &fixed);
            read_all(&path).expect_err(&format!("fixed cut at {len} was accepted"));
        }
    }
    assert!(read_all(&dir.write("whole.sf2", &full)).is_ok());
}

#[test]
fn chunk_larger_than_file_is_an_error() {
    let dir = TempDir::new("sf2-huge");
    let mut bytes = tiny();
    let at = find(&bytes, b"smpl") + 4;
    bytes[at..at + 4].copy_from_slice(&0xFFFF_FFF0u32.to_le_bytes());
    let err = Sf2::open(&dir.write("huge.sf2", &bytes)).unwrap_err();
    match &err {
        DatasetError::ChunkTooLarge { chunk, claimed, .. } => {
            assert_eq!((chunk.as_str(), *claimed), ("smpl", 0xFFFF_FFF0));
        }
        other => panic!("unexpected {other}"),
    }

    let mut bytes = tiny();
    bytes[4..8].copy_from_slice(&u32::MAX.to_le_bytes());
    let err = Sf2::open(&dir.write("riff.sf2", &bytes)).unwrap_err();
    assert!(matches!(err, DatasetError::ChunkTooLarge { .. }), "{err}");
}

/// Offset of sample `index`'s record in the shdr chunk.
fn shdr_record(bytes: &[u8], index: usize) -> usize {
    find(bytes, b"shdr") + 8 + 46 * index
}

#[test]
fn sample_range_outside_smpl_is_an_error() {
    let dir = TempDir::new("sf2-range");
    let mut bytes = tiny();
    let rec = shdr_record(&bytes, 1);
    bytes[rec + 24..rec + 28].copy_from_slice(&1_000_000u32.to_le_bytes());
    let path = dir.write("range.sf2", &bytes);
    let sf2 = Sf2::open(&path).unwrap();
    assert!(sf2.read_sample(0).is_ok());
    let err = sf2.read_sample(1).unwrap_err();
    match &err {
        DatasetError::BadSample { sample, .. } => assert_eq!(sample, "Second"),
        other => panic!("unexpected {other}"),
    }
    assert!(err.to_string().contains("range.sf2"), "{err}");

    // start after end
    let mut bytes = tiny();
    let rec = shdr_record(&bytes, 0);
    bytes[rec + 20..rec + 24].copy_from_slice(&120u32.to_le_bytes());
    let sf2 = Sf2::open(&dir.write("inverted.sf2", &bytes)).unwrap();
    assert!(matches!(sf2.read_sample(0), Err(DatasetError::BadSample { .. })));
}

#[test]
fn bad_hydra_indices_are_errors() {
    let dir = TempDir::new("sf2-hydra");
    // The terminal instrument record points past the bags.
    let mut bytes = tiny();
    let eoi = find(&bytes, b"EOI\0") + 20;
    bytes[eoi..eoi + 2].copy_from_slice(&500u16.to_le_bytes());
    let err = Sf2::open(&dir.write("bags.sf2", &bytes)).unwrap_err();
    assert!(matches!(&err, DatasetError::Malformed { chunk, .. } if chunk == "inst"), "{err}");

    // A zone refers to a sample that does not exist.
    let mut bytes = tiny();
    let igen = find(&bytes, b"igen") + 8;
    let sample_gen = (igen..bytes.len()).step_by(4).find(|&i| bytes[i..i + 2] == 53u16.to_le_bytes()).unwrap();
    bytes[sample_gen + 2..sample_gen + 4].copy_from_slice(&9u16.to_le_bytes());
    let err = Sf2::open(&dir.write("sample-id.sf2", &bytes)).unwrap_err();
    assert!(err.to_string().contains("refers to sample 9"), "{err}");

    // A preset refers to an instrument that does not exist.
    let mut bytes = tiny();
    let pgen = find(&bytes, b"pgen") + 8;
    bytes[pgen + 2..pgen + 4].copy_from_slice(&3u16.to_le_bytes());
    let err = Sf2::open(&dir.write("inst-id.sf2", &bytes)).unwrap_err();
    assert!(err.to_string().contains("refers to instrument 3"), "{err}");

    // A hydra chunk that is not a whole number of records (odd size, so the pad byte keeps the
    // following chunks in place).
    let mut bytes = tiny();
    let pmod = find(&bytes, b"pmod") + 4;
    bytes[pmod..pmod + 4].copy_from_slice(&9u32.to_le_bytes());
    let err = Sf2::open(&dir.write("records.sf2", &bytes)).unwrap_err();
    assert!(matches!(&err, DatasetError::Malformed { chunk, .. } if chunk == "pmod"), "{err}");

    // A missing hydra chunk.
    let mut bytes = tiny();
    let at = find(&bytes, b"imod");
    bytes[at..at + 4].copy_from_slice(b"xmod");
    let err = Sf2::open(&dir.write("missing.sf2", &bytes)).unwrap_err();
    assert!(matches!(&err, DatasetError::MissingChunk { chunk, .. } if chunk == "imod"), "{err}");
}

#[test]
fn soundfont_3_is_unsupported() {
    let dir = TempDir::new("sf2-sf3");
    let mut bytes = tiny();
    let at = find(&bytes, b"ifil") + 8;
    bytes[at..at + 2].copy_from_slice(&3u16.to_le_bytes());
    let err = Sf2::open(&dir.write("compressed.sf3", &bytes)).unwrap_err();
    assert!(matches!(err, DatasetError::Unsupported { .. }), "{err}");
}

/// Random byte damage must give Ok or Err, never a panic or a runaway allocation.
#[test]
fn random_corruption_never_panics() {
    let dir = TempDir::new("sf2-fuzz");
    let full = tiny();
    let mut rng = rosin_core::rng::XorShift64::new(0x2545_f491_4f6c_dd1d);
    let mut next = move || rng.next_u64();
    let path = dir.path().join("fuzz.sf2");
    for _ in 0..1000 {
        let mut bytes = full.clone();
        for _ in 0..1 + next() % 4 {
            let i = (next() % bytes.len() as u64) as usize;
            bytes[i] = next() as u8;
        }
        std::fs::write(&path, &bytes).unwrap();
        let _ = read_all(&path);
    }
}
