//! Writes the committed seed corpus, fuzz/seeds/<target>/: a few tiny valid inputs per target.
//!
//!     cargo run --manifest-path fuzz/Cargo.toml --example make_seeds
//!
//! Deterministic: running it again rewrites the same bytes.

use std::io::Cursor;
use std::path::Path;

use rosin_core::model::fixture::fixed_spectrum_model;

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("seeds");
    let write = |target: &str, name: &str, bytes: &[u8]| {
        let dir = root.join(target);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(name), bytes).unwrap();
        println!("{target}/{name}: {} bytes", bytes.len());
    };

    // model_loader: the smallest valid models.
    write("model_loader", "fixture-1x1x1", &fixed_spectrum_model(1, 1, 1, 1).to_bytes());
    write("model_loader", "fixture-2x2x2", &fixed_spectrum_model(2, 2, 2, 7).to_bytes());

    // midi_file
    write("midi_file", "type0-two-notes.mid", &midi(0, 96, &[two_notes()]));
    let mut tempo = Vec::new();
    meta(&mut tempo, 0, 0x51, &[0x07, 0xA1, 0x20]); // 500 000 us per quarter
    meta(&mut tempo, 0, 0x58, &[4, 2, 24, 8]);
    meta(&mut tempo, 0, 0x2F, &[]);
    let mut strings = Vec::new();
    meta(&mut strings, 0, 0x03, b"Violins");
    meta(&mut strings, 0, 0x04, b"Vln");
    strings.extend_from_slice(&[0x00, 0xC0, 40]); // program change
    strings.extend_from_slice(&[0x00, 0xB0, 64, 127]); // sustain on
    strings.extend_from_slice(&[0x00, 0x90, 67, 80]);
    strings.extend_from_slice(&[0x10, 0xE0, 0x00, 0x50]); // pitch bend
    strings.extend_from_slice(&[0x30, 67, 0]); // running status note-on, velocity 0 = off
    strings.extend_from_slice(&[0x00, 0xB0, 64, 0]);
    meta(&mut strings, 0, 0x2F, &[]);
    write("midi_file", "type1-tempo-strings.mid", &midi(1, 96, &[tempo, strings]));

    // sf2_reader: VSCO-style names so the string selection finds something.
    let (l, r, m) = (4u16, 2u16, 1u16);
    let samples = [
        ("Violins_A2_v1L", 1000i16, 57u8, l),
        ("Violins_A2_v1R", 3000, 57, r),
        ("VlnsPzz_C4_v1_r1", 500, 72, m),
        ("Piano C4", 800, 60, m),
    ];
    write("sf2_reader", "vsco-like.sf2", &sf2(&samples, false));
    write("sf2_reader", "vsco-like-24bit.sf2", &sf2(&samples[..1], true));

    // wav_reader
    write("wav_reader", "int16-mono", &wav(1, 44_100, 16, false, 32));
    write("wav_reader", "int24-stereo", &wav(2, 48_000, 24, false, 16));
    write("wav_reader", "float32-mono", &wav(1, 96_000, 32, true, 16));
    write("wav_reader", "int8-mono", &wav(1, 22_050, 8, false, 16));

    // event_stream: arbitrary-decoded bytes; these just give the mutator a start.
    let mut rng = rosin_core::rng::XorShift64::new(0x9E37_79B9_7F4A_7C15);
    for (i, len) in [48usize, 96, 160].into_iter().enumerate() {
        let bytes: Vec<u8> = (0..len).map(|_| (rng.next_u64() >> 24) as u8).collect();
        write("event_stream", &format!("random-{i}"), &bytes);
    }
    check(&root);
}

/// Every seed of the file readers must be a valid input, so the fuzzer starts inside the format.
fn check(root: &Path) {
    use rosin_tools::dataset::{read_sf2_strings, read_wav_folder};
    let files = |target: &str| -> Vec<Vec<u8>> {
        let mut paths: Vec<_> = std::fs::read_dir(root.join(target)).unwrap().map(|e| e.unwrap().path()).collect();
        paths.sort();
        paths.iter().map(|p| std::fs::read(p).unwrap()).collect()
    };
    for bytes in files("model_loader") {
        rosin_core::Model::from_bytes(&bytes, Path::new("seed")).expect("model seed loads");
    }
    for bytes in files("midi_file") {
        let song = rosin_tools::render::midi_file::parse_midi_bytes(&bytes, Path::new("seed")).expect("MIDI seed");
        assert!(song.tracks_with_notes().count() > 0);
    }
    for bytes in files("sf2_reader") {
        let path = rosin_fuzz::scratch_file("seed-sf2", "seed.sf2", &bytes);
        let recs = read_sf2_strings(&path).expect("SoundFont seed reads");
        assert!(!recs.is_empty());
    }
    for bytes in files("wav_reader") {
        let path = rosin_fuzz::scratch_file("seed-wav", "violins_sustain_A4_v1.wav", &bytes);
        read_wav_folder(path.parent().unwrap()).expect("WAV seed reads");
    }
    let _ = std::fs::remove_dir_all(rosin_fuzz::scratch_dir());
    println!("all seeds of the file readers are valid inputs");
}

fn two_notes() -> Vec<u8> {
    let mut t = vec![0x00, 0x90, 60, 100, 0x60, 0x80, 60, 0, 0x00, 0x90, 64, 90, 0x60, 0x80, 64, 0];
    meta(&mut t, 0, 0x2F, &[]);
    t
}

fn meta(t: &mut Vec<u8>, delta: u8, kind: u8, data: &[u8]) {
    t.extend_from_slice(&[delta, 0xFF, kind, data.len() as u8]);
    t.extend_from_slice(data);
}

fn midi(format: u16, division: u16, tracks: &[Vec<u8>]) -> Vec<u8> {
    let mut f = b"MThd".to_vec();
    f.extend_from_slice(&6u32.to_be_bytes());
    for v in [format, tracks.len() as u16, division] {
        f.extend_from_slice(&v.to_be_bytes());
    }
    for t in tracks {
        f.extend_from_slice(b"MTrk");
        f.extend_from_slice(&(t.len() as u32).to_be_bytes());
        f.extend_from_slice(t);
    }
    f
}

fn wav(channels: u16, rate: u32, bits: u16, float: bool, frames: usize) -> Vec<u8> {
    let spec = hound::WavSpec {
        channels,
        sample_rate: rate,
        bits_per_sample: bits,
        sample_format: if float { hound::SampleFormat::Float } else { hound::SampleFormat::Int },
    };
    let mut cursor = Cursor::new(Vec::new());
    let mut w = hound::WavWriter::new(&mut cursor, spec).unwrap();
    for i in 0..frames * channels as usize {
        let v = 0.5 * (i as f64 * 0.3).sin();
        if float {
            w.write_sample(v as f32).unwrap();
        } else {
            let full = 2f64.powi(i32::from(bits) - 1);
            let q = (v * full).round() as i32;
            if bits == 8 {
                w.write_sample(q as i8).unwrap();
            } else {
                w.write_sample(q).unwrap();
            }
        }
    }
    w.finalize().unwrap();
    cursor.into_inner()
}

/// A minimal SoundFont (after engine/tools/src/dataset/test_support.rs `build_sf2`): each sample is a
/// short constant run followed by 46 zero points, one instrument with a global zone plus one
/// zone per sample, one preset playing it. With `sm24`, version 2.04 and a 24-bit chunk.
fn sf2(samples: &[(&str, i16, u8, u16)], sm24: bool) -> Vec<u8> {
    const POINTS: u32 = 8;
    let mut smpl = Vec::new();
    let mut shdr = Vec::new();
    let mut pos = 0u32;
    for &(name, value, root, kind) in samples {
        for _ in 0..POINTS {
            smpl.extend_from_slice(&value.to_le_bytes());
        }
        smpl.extend_from_slice(&[0u8; 92]);
        let (start, end) = (pos, pos + POINTS);
        shdr.extend_from_slice(&name20(name));
        for v in [start, end, start + 2, start + 6, 44_100] {
            shdr.extend_from_slice(&v.to_le_bytes());
        }
        shdr.extend_from_slice(&[root, 0, 0, 0]);
        shdr.extend_from_slice(&kind.to_le_bytes());
        pos = end + 46;
    }
    shdr.extend_from_slice(&name20("EOS"));
    shdr.extend_from_slice(&[0u8; 26]);

    let mut igen: Vec<(u16, u16)> = vec![(54, 0)];
    let mut ibag: Vec<u16> = vec![0];
    for i in 0..samples.len() as u16 {
        ibag.push(igen.len() as u16);
        igen.push((43, u16::from_le_bytes([0, 127])));
        if i == 0 {
            igen.push((54, 1)); // loops
            igen.push((58, 57)); // overriding root key
        }
        igen.push((53, i));
    }
    ibag.push(igen.len() as u16);
    igen.push((0, 0));

    let mut inst = Vec::new();
    inst.extend_from_slice(&name20("Test Inst"));
    inst.extend_from_slice(&0u16.to_le_bytes());
    inst.extend_from_slice(&name20("EOI"));
    inst.extend_from_slice(&((ibag.len() - 1) as u16).to_le_bytes());

    let mut phdr = Vec::new();
    for (name, bag) in [("Test Preset", 0u16), ("EOP", 1)] {
        phdr.extend_from_slice(&name20(name));
        phdr.extend_from_slice(&[0u8; 4]);
        phdr.extend_from_slice(&bag.to_le_bytes());
        phdr.extend_from_slice(&[0u8; 12]);
    }
    let bags = |b: &[u16]| -> Vec<u8> { b.iter().flat_map(|&g| [g.to_le_bytes(), [0, 0]].concat()).collect() };
    let gens = |g: &[(u16, u16)]| -> Vec<u8> {
        g.iter().flat_map(|&(o, a)| [o.to_le_bytes(), a.to_le_bytes()].concat()).collect()
    };
    let version: [u8; 4] = if sm24 { [2, 0, 4, 0] } else { [2, 0, 1, 0] };
    let info = list(b"INFO", &[chunk(b"ifil", &version), chunk(b"INAM", b"Seed\0")]);
    let mut sdta_chunks = vec![chunk(b"smpl", &smpl)];
    if sm24 {
        let low: Vec<u8> = (0..smpl.len() / 2).map(|i| (i * 37 % 256) as u8).collect();
        sdta_chunks.push(chunk(b"sm24", &low));
    }
    let sdta = list(b"sdta", &sdta_chunks);
    let pdta = list(
        b"pdta",
        &[
            chunk(b"phdr", &phdr),
            chunk(b"pbag", &bags(&[0, 1])),
            chunk(b"pmod", &[0u8; 10]),
            chunk(b"pgen", &gens(&[(41, 0), (0, 0)])),
            chunk(b"inst", &inst),
            chunk(b"ibag", &bags(&ibag)),
            chunk(b"imod", &[0u8; 10]),
            chunk(b"igen", &gens(&igen)),
            chunk(b"shdr", &shdr),
        ],
    );
    let mut body = b"sfbk".to_vec();
    body.extend(info);
    body.extend(sdta);
    body.extend(pdta);
    chunk(b"RIFF", &body)
}

fn name20(s: &str) -> [u8; 20] {
    let mut n = [0u8; 20];
    for (d, b) in n.iter_mut().zip(s.bytes()) {
        *d = b;
    }
    n
}

fn chunk(id: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut c = id.to_vec();
    c.extend_from_slice(&(data.len() as u32).to_le_bytes());
    c.extend_from_slice(data);
    if data.len() % 2 == 1 {
        c.push(0);
    }
    c
}

fn list(kind: &[u8; 4], children: &[Vec<u8>]) -> Vec<u8> {
    let mut body = kind.to_vec();
    for c in children {
        body.extend_from_slice(c);
    }
    chunk(b"LIST", &body)
}
