//! A SoundFont 2 reader: the RIFF `sfbk` structure, the preset/instrument/sample "hydra" and the
//! 16- or 24-bit sample data.
//!
//! Written for untrusted files: every size and index is checked before it is used, so a broken or
//! hostile file yields a [`DatasetError`] naming the file and the problem, never a panic or an
//! allocation larger than the file. Sample data is not loaded at open; [`Sf2::read_sample`] seeks to
//! the one sample it needs, so a 500 MB SoundFont costs only its few hundred KB of headers to open.

use std::fs::File;
use std::path::{Path, PathBuf};

use super::riff::{self, Chunk};
use super::DatasetError;

/// Generator operators used by this crate (SoundFont 2.04, section 8.1.2).
pub mod op {
    pub const INSTRUMENT: u16 = 41;
    pub const KEY_RANGE: u16 = 43;
    pub const VEL_RANGE: u16 = 44;
    pub const SAMPLE_ID: u16 = 53;
    pub const SAMPLE_MODES: u16 = 54;
    pub const OVERRIDING_ROOT_KEY: u16 = 58;
}

/// Record sizes of the nine hydra chunks, in bytes.
const PHDR_SIZE: usize = 38;
const BAG_SIZE: usize = 4;
const MOD_SIZE: usize = 10;
const GEN_SIZE: usize = 4;
const INST_SIZE: usize = 22;
const SHDR_SIZE: usize = 46;

/// Hydra indices are 16-bit, so no meaningful chunk holds more records than this (65536 indexable
/// records plus the terminal one). Bounds the memory a hostile header can ask for.
const MAX_RECORDS: usize = 65_537;

/// Longest INFO string the spec allows (ICMT); longer ones are cut, not read.
const MAX_INFO_STRING: u64 = 65_536;

/// The `sfSampleType` bit field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SampleType(pub u16);

impl SampleType {
    pub const MONO: u16 = 1;
    pub const RIGHT: u16 = 2;
    pub const LEFT: u16 = 4;
    pub const LINKED: u16 = 8;
    /// SoundFont 3 (MuseScore's .sf3) marks Ogg Vorbis compressed samples with this bit.
    pub const COMPRESSED: u16 = 0x10;
    pub const ROM: u16 = 0x8000;

    pub fn is_left(self) -> bool {
        self.0 & Self::LEFT != 0
    }
    pub fn is_right(self) -> bool {
        self.0 & Self::RIGHT != 0
    }
    pub fn is_rom(self) -> bool {
        self.0 & Self::ROM != 0
    }
    pub fn is_compressed(self) -> bool {
        self.0 & Self::COMPRESSED != 0
    }
}

/// One `shdr` record. Positions are absolute sample indices into the `smpl` chunk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SampleHeader {
    pub name: String,
    pub start: u32,
    pub end: u32,
    pub loop_start: u32,
    pub loop_end: u32,
    pub sample_rate: u32,
    /// MIDI key of the recorded pitch; 255 means unpitched.
    pub original_pitch: u8,
    /// Cents to add to `original_pitch`.
    pub pitch_correction: i8,
    pub sample_link: u16,
    pub sample_type: SampleType,
}

impl SampleHeader {
    /// Length in sample frames (0 for an inverted range, which [`Sf2::read_sample`] rejects).
    pub fn len(&self) -> u32 {
        self.end.saturating_sub(self.start)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The loop relative to the sample start, if it is a proper non-empty range inside the sample.
    pub fn relative_loop(&self) -> Option<(usize, usize)> {
        if self.start <= self.loop_start && self.loop_start < self.loop_end && self.loop_end <= self.end {
            Some(((self.loop_start - self.start) as usize, (self.loop_end - self.start) as usize))
        } else {
            None
        }
    }
}

/// One generator: an operator and its raw 16-bit amount.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Generator {
    pub op: u16,
    pub amount: u16,
}

/// A preset or instrument zone: its generators in file order, up to and including the terminal
/// `instrument` / `sampleID` generator (anything after it is ignored, as the spec says).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Zone {
    pub generators: Vec<Generator>,
}

impl Zone {
    /// The amount of the last generator with this operator.
    pub fn get(&self, op: u16) -> Option<u16> {
        self.generators.iter().rev().find(|g| g.op == op).map(|g| g.amount)
    }

    /// `(low, high)` key range.
    pub fn key_range(&self) -> Option<(u8, u8)> {
        self.get(op::KEY_RANGE).map(split_range)
    }

    /// `(low, high)` velocity range.
    pub fn velocity_range(&self) -> Option<(u8, u8)> {
        self.get(op::VEL_RANGE).map(split_range)
    }

    /// Index into [`Sf2::samples`] (instrument zones).
    pub fn sample_id(&self) -> Option<usize> {
        self.get(op::SAMPLE_ID).map(usize::from)
    }

    /// Index into [`Sf2::instruments`] (preset zones).
    pub fn instrument_id(&self) -> Option<usize> {
        self.get(op::INSTRUMENT).map(usize::from)
    }

    /// The root key this zone imposes on its sample, if it sets a valid one (0..=127; the spec's
    /// default -1 means "use the sample's original pitch").
    pub fn overriding_root_key(&self) -> Option<u8> {
        self.get(op::OVERRIDING_ROOT_KEY).and_then(|v| u8::try_from(v as i16).ok()).filter(|&k| k <= 127)
    }

    /// `sampleModes`: 0 no loop, 1 loop continuously, 3 loop then play the rest on release.
    pub fn sample_modes(&self) -> Option<u16> {
        self.get(op::SAMPLE_MODES)
    }
}

fn split_range(v: u16) -> (u8, u8) {
    let [lo, hi] = v.to_le_bytes();
    (lo, hi)
}

/// An instrument: an optional global zone whose generators are the defaults for the others.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instrument {
    pub name: String,
    pub global: Option<Zone>,
    pub zones: Vec<Zone>,
}

impl Instrument {
    /// A generator's effective value in `zone`: the zone's own, else the global zone's.
    pub fn generator(&self, zone: &Zone, op: u16) -> Option<u16> {
        zone.get(op).or_else(|| self.global.as_ref().and_then(|g| g.get(op)))
    }

    /// Whether `zone` plays its sample looped (sampleModes 1 or 3).
    pub fn zone_loops(&self, zone: &Zone) -> bool {
        matches!(self.generator(zone, op::SAMPLE_MODES), Some(1) | Some(3))
    }

    /// The zone's overriding root key, falling back to the global zone's.
    pub fn zone_root_key(&self, zone: &Zone) -> Option<u8> {
        zone.overriding_root_key().or_else(|| self.global.as_ref().and_then(Zone::overriding_root_key))
    }
}

/// A preset (bank:program), whose zones point at instruments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Preset {
    pub name: String,
    pub preset: u16,
    pub bank: u16,
    pub global: Option<Zone>,
    pub zones: Vec<Zone>,
}

/// An opened SoundFont: all headers in memory, sample data read on demand.
#[derive(Debug)]
pub struct Sf2 {
    path: PathBuf,
    file: File,
    /// `ifil` version, e.g. (2, 4).
    pub version: (u16, u16),
    /// `INAM`, the bank name.
    pub name: String,
    /// Sample headers, without the terminal `EOS` record.
    pub samples: Vec<SampleHeader>,
    /// Instruments, without the terminal `EOI` record.
    pub instruments: Vec<Instrument>,
    /// Presets, without the terminal `EOP` record.
    pub presets: Vec<Preset>,
    smpl_offset: u64,
    smpl_len: u32,
    sm24_offset: Option<u64>,
}

impl Sf2 {
    /// Opens and validates a SoundFont's structure and headers; no sample data is read.
    pub fn open(path: &Path) -> Result<Sf2, DatasetError> {
        let file = File::open(path).map_err(|source| DatasetError::Io { path: path.to_path_buf(), source })?;
        let file_len = file.metadata().map_err(|source| DatasetError::Io { path: path.to_path_buf(), source })?.len();
        Parser { path, file: &file }.parse(file_len).map(|p| Sf2 {
            path: path.to_path_buf(),
            file,
            version: p.version,
            name: p.name,
            samples: p.samples,
            instruments: p.instruments,
            presets: p.presets,
            smpl_offset: p.smpl_offset,
            smpl_len: p.smpl_len,
            sm24_offset: p.sm24_offset,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Number of sample points in the `smpl` chunk.
    pub fn sample_data_len(&self) -> u32 {
        self.smpl_len
    }

    /// Whether a valid `sm24` chunk extends the samples to 24 bits.
    pub fn is_24_bit(&self) -> bool {
        self.sm24_offset.is_some()
    }

    /// Reads sample `index`'s `[start, end)` as floats in -1..1 (24-bit when `sm24` is present).
    pub fn read_sample(&self, index: usize) -> Result<Vec<f32>, DatasetError> {
        let header = self.samples.get(index).ok_or_else(|| DatasetError::BadSample {
            path: self.path.clone(),
            sample: format!("#{index}"),
            what: format!("there is no sample {index}; the file has {}", self.samples.len()),
        })?;
        let bad = |what: String| DatasetError::BadSample { path: self.path.clone(), sample: header.name.clone(), what };
        if header.sample_type.is_rom() {
            return Err(DatasetError::Unsupported {
                path: self.path.clone(),
                what: format!("sample \"{}\" lives in a sound ROM, not in the file", header.name),
            });
        }
        if header.sample_type.is_compressed() {
            return Err(DatasetError::Unsupported {
                path: self.path.clone(),
                what: format!("sample \"{}\" is compressed (SoundFont 3); use the uncompressed .sf2", header.name),
            });
        }
        if header.start > header.end || header.end > self.smpl_len {
            return Err(bad(format!(
                "its range [{}, {}) does not lie inside the {}-point sample data",
                header.start, header.end, self.smpl_len
            )));
        }
        // Both bounds were checked against smpl, whose size was checked against the file.
        let n = (header.end - header.start) as usize;
        let mut words = vec![0u8; n * 2];
        riff::read_exact_at(
            &self.file,
            &self.path,
            self.smpl_offset + 2 * u64::from(header.start),
            &mut words,
            &format!("the data of sample \"{}\"", header.name),
        )?;
        let mut out: Vec<f32> =
            words.chunks_exact(2).map(|w| f32::from(i16::from_le_bytes([w[0], w[1]])) / 32768.0).collect();
        if let Some(sm24) = self.sm24_offset {
            let mut low = vec![0u8; n];
            riff::read_exact_at(
                &self.file,
                &self.path,
                sm24 + u64::from(header.start),
                &mut low,
                &format!("the 24-bit data of sample \"{}\"", header.name),
            )?;
            for ((o, w), &l) in out.iter_mut().zip(words.chunks_exact(2)).zip(&low) {
                let v = (i32::from(i16::from_le_bytes([w[0], w[1]])) << 8) | i32::from(l);
                *o = v as f32 / 8_388_608.0;
            }
        }
        Ok(out)
    }
}

/// Everything [`Sf2::open`] learns, before it is moved into the [`Sf2`].
struct Parsed {
    version: (u16, u16),
    name: String,
    samples: Vec<SampleHeader>,
    instruments: Vec<Instrument>,
    presets: Vec<Preset>,
    smpl_offset: u64,
    smpl_len: u32,
    sm24_offset: Option<u64>,
}

struct Parser<'a> {
    path: &'a Path,
    file: &'a File,
}

impl Parser<'_> {
    fn malformed(&self, chunk: &str, what: impl Into<String>) -> DatasetError {
        DatasetError::Malformed { path: self.path.to_path_buf(), chunk: chunk.to_string(), what: what.into() }
    }

    fn missing(&self, chunk: &str) -> DatasetError {
        DatasetError::MissingChunk { path: self.path.to_path_buf(), chunk: chunk.to_string() }
    }

    fn parse(&self, file_len: u64) -> Result<Parsed, DatasetError> {
        let not_sf2 = |what: String| DatasetError::NotSoundFont { path: self.path.to_path_buf(), what };
        if file_len == 0 {
            return Err(not_sf2("the file is empty".into()));
        }
        if file_len < 12 {
            return Err(DatasetError::Truncated {
                path: self.path.to_path_buf(),
                what: format!("only {file_len} bytes, too short for a RIFF header"),
            });
        }
        let mut header = [0u8; 12];
        riff::read_exact_at(self.file, self.path, 0, &mut header, "the RIFF header")?;
        if &header[0..4] != b"RIFF" {
            return Err(not_sf2(format!(
                "it starts with '{}' instead of 'RIFF'",
                riff::fourcc(&[header[0], header[1], header[2], header[3]])
            )));
        }
        if &header[8..12] != b"sfbk" {
            return Err(not_sf2(format!(
                "it is a RIFF '{}' file, not 'sfbk'",
                riff::fourcc(&[header[8], header[9], header[10], header[11]])
            )));
        }
        let riff_size = u64::from(u32::from_le_bytes([header[4], header[5], header[6], header[7]]));
        if riff_size < 4 || 8 + riff_size > file_len {
            return Err(DatasetError::ChunkTooLarge {
                path: self.path.to_path_buf(),
                chunk: "RIFF".into(),
                claimed: riff_size,
                available: file_len - 8,
            });
        }
        let top = riff::children(self.file, self.path, "RIFF", 12, 8 + riff_size)?;
        let mut info = None;
        let mut sdta = None;
        let mut pdta = None;
        for chunk in top.iter().filter(|c| &c.id == b"LIST") {
            let slot = match &riff::list_type(self.file, self.path, chunk)? {
                b"INFO" => &mut info,
                b"sdta" => &mut sdta,
                b"pdta" => &mut pdta,
                _ => continue,
            };
            slot.get_or_insert(*chunk);
        }
        let info = info.ok_or_else(|| self.missing("LIST INFO"))?;
        let sdta = sdta.ok_or_else(|| self.missing("LIST sdta"))?;
        let pdta = pdta.ok_or_else(|| self.missing("LIST pdta"))?;

        let (version, name) = self.parse_info(&info)?;
        let (smpl_offset, smpl_len, sm24_offset) = self.parse_sdta(&sdta, version)?;
        let (samples, instruments, presets) = self.parse_pdta(&pdta)?;
        Ok(Parsed { version, name, samples, instruments, presets, smpl_offset, smpl_len, sm24_offset })
    }

    fn sub_chunks(&self, list: &Chunk, name: &str) -> Result<Vec<Chunk>, DatasetError> {
        riff::children(self.file, self.path, name, list.offset + 4, list.end())
    }

    fn parse_info(&self, info: &Chunk) -> Result<((u16, u16), String), DatasetError> {
        let chunks = self.sub_chunks(info, "LIST INFO")?;
        let ifil = chunks.iter().find(|c| &c.id == b"ifil").ok_or_else(|| self.missing("ifil"))?;
        if ifil.size < 4 {
            return Err(self.malformed("ifil", format!("{} bytes instead of 4", ifil.size)));
        }
        let mut v = [0u8; 4];
        riff::read_exact_at(self.file, self.path, ifil.offset, &mut v, "the 'ifil' chunk")?;
        let version = (u16::from_le_bytes([v[0], v[1]]), u16::from_le_bytes([v[2], v[3]]));
        if version.0 == 3 {
            return Err(DatasetError::Unsupported {
                path: self.path.to_path_buf(),
                what: format!(
                    "SoundFont version {}.{} (SF3, compressed samples); use the uncompressed .sf2",
                    version.0, version.1
                ),
            });
        }
        if version.0 != 2 {
            return Err(DatasetError::Unsupported {
                path: self.path.to_path_buf(),
                what: format!("SoundFont version {}.{}; only 2.x is read", version.0, version.1),
            });
        }
        let name = match chunks.iter().find(|c| &c.id == b"INAM") {
            Some(c) => {
                let mut buf = vec![0u8; c.size.min(MAX_INFO_STRING) as usize];
                riff::read_exact_at(self.file, self.path, c.offset, &mut buf, "the 'INAM' chunk")?;
                decode_name(&buf)
            }
            None => String::new(),
        };
        Ok((version, name))
    }

    fn parse_sdta(&self, sdta: &Chunk, version: (u16, u16)) -> Result<(u64, u32, Option<u64>), DatasetError> {
        let chunks = self.sub_chunks(sdta, "LIST sdta")?;
        let smpl = chunks.iter().find(|c| &c.id == b"smpl").ok_or_else(|| self.missing("smpl"))?;
        // The size came from a u32 field, so half of it fits a u32.
        let smpl_len = (smpl.size / 2) as u32;
        // The spec: ignore sm24 before version 2.04 or when its size does not match smpl.
        let sm24 = chunks
            .iter()
            .find(|c| &c.id == b"sm24")
            .filter(|c| version >= (2, 4) && c.size >= u64::from(smpl_len))
            .map(|c| c.offset);
        Ok((smpl.offset, smpl_len, sm24))
    }

    fn hydra_chunk(&self, chunks: &[Chunk], id: &[u8; 4], record: usize) -> Result<Vec<u8>, DatasetError> {
        let name = riff::fourcc(id);
        let chunk = chunks.iter().find(|c| &c.id == id).ok_or_else(|| self.missing(&name))?;
        if chunk.size % record as u64 != 0 {
            return Err(
                self.malformed(&name, format!("{} bytes is not a whole number of {record}-byte records", chunk.size))
            );
        }
        let count = chunk.size / record as u64;
        if count > MAX_RECORDS as u64 {
            return Err(
                self.malformed(&name, format!("{count} records, more than a SoundFont can index ({MAX_RECORDS})"))
            );
        }
        riff::read_chunk(self.file, self.path, chunk)
    }

    #[allow(clippy::type_complexity)]
    fn parse_pdta(&self, pdta: &Chunk) -> Result<(Vec<SampleHeader>, Vec<Instrument>, Vec<Preset>), DatasetError> {
        let chunks = self.sub_chunks(pdta, "LIST pdta")?;
        let phdr = self.hydra_chunk(&chunks, b"phdr", PHDR_SIZE)?;
        let pbag = self.hydra_chunk(&chunks, b"pbag", BAG_SIZE)?;
        let pmod = self.hydra_chunk(&chunks, b"pmod", MOD_SIZE)?;
        let pgen = self.hydra_chunk(&chunks, b"pgen", GEN_SIZE)?;
        let inst = self.hydra_chunk(&chunks, b"inst", INST_SIZE)?;
        let ibag = self.hydra_chunk(&chunks, b"ibag", BAG_SIZE)?;
        let imod = self.hydra_chunk(&chunks, b"imod", MOD_SIZE)?;
        let igen = self.hydra_chunk(&chunks, b"igen", GEN_SIZE)?;
        let shdr = self.hydra_chunk(&chunks, b"shdr", SHDR_SIZE)?;

        let samples = self.parse_shdr(&shdr)?;

        let inst_heads: Vec<(String, usize)> =
            inst.chunks_exact(INST_SIZE).map(|r| (decode_name(&r[..20]), usize::from(le16(&r[20..22])))).collect();
        let inst_zones =
            self.zones(("inst", &inst_heads), ("ibag", &ibag, imod.len() / MOD_SIZE), ("igen", &igen), op::SAMPLE_ID)?;
        let mut instruments = Vec::with_capacity(inst_zones.len());
        for ((name, _), (global, zones)) in inst_heads.iter().zip(inst_zones) {
            if let Some(z) = zones.iter().find(|z| z.sample_id().unwrap_or(0) >= samples.len()) {
                return Err(self.malformed(
                    "igen",
                    format!(
                        "instrument \"{name}\" refers to sample {} but there are only {}",
                        z.sample_id().unwrap_or(0),
                        samples.len()
                    ),
                ));
            }
            instruments.push(Instrument { name: name.clone(), global, zones });
        }

        let preset_heads: Vec<(String, usize)> =
            phdr.chunks_exact(PHDR_SIZE).map(|r| (decode_name(&r[..20]), usize::from(le16(&r[24..26])))).collect();
        let preset_zones = self.zones(
            ("phdr", &preset_heads),
            ("pbag", &pbag, pmod.len() / MOD_SIZE),
            ("pgen", &pgen),
            op::INSTRUMENT,
        )?;
        let mut presets = Vec::with_capacity(preset_zones.len());
        for ((record, (name, _)), (global, zones)) in phdr.chunks_exact(PHDR_SIZE).zip(&preset_heads).zip(preset_zones)
        {
            if let Some(z) = zones.iter().find(|z| z.instrument_id().unwrap_or(0) >= instruments.len()) {
                return Err(self.malformed(
                    "pgen",
                    format!(
                        "preset \"{name}\" refers to instrument {} but there are only {}",
                        z.instrument_id().unwrap_or(0),
                        instruments.len()
                    ),
                ));
            }
            presets.push(Preset {
                name: name.clone(),
                preset: le16(&record[20..22]),
                bank: le16(&record[22..24]),
                global,
                zones,
            });
        }
        Ok((samples, instruments, presets))
    }

    fn parse_shdr(&self, shdr: &[u8]) -> Result<Vec<SampleHeader>, DatasetError> {
        let records: Vec<&[u8]> = shdr.chunks_exact(SHDR_SIZE).collect();
        let Some((_terminal, real)) = records.split_last() else {
            return Err(self.malformed("shdr", "no records, not even the terminal 'EOS'"));
        };
        Ok(real
            .iter()
            .map(|r| SampleHeader {
                name: decode_name(&r[..20]),
                start: le32(&r[20..24]),
                end: le32(&r[24..28]),
                loop_start: le32(&r[28..32]),
                loop_end: le32(&r[32..36]),
                sample_rate: le32(&r[36..40]),
                original_pitch: r[40],
                pitch_correction: r[41] as i8,
                sample_link: le16(&r[42..44]),
                sample_type: SampleType(le16(&r[44..46])),
            })
            .collect())
    }

    /// Builds the zones of every header record but the terminal one. `heads` are (name, first bag
    /// index) in file order, terminal record included; the bag and generator lists are validated
    /// to be non-decreasing and in range before any slicing.
    #[allow(clippy::type_complexity)]
    fn zones(
        &self,
        (head_chunk, heads): (&str, &[(String, usize)]),
        (bag_chunk, bags, mod_count): (&str, &[u8], usize),
        (gen_chunk, gens): (&str, &[u8]),
        terminal_op: u16,
    ) -> Result<Vec<(Option<Zone>, Vec<Zone>)>, DatasetError> {
        let bags: Vec<(usize, usize)> =
            bags.chunks_exact(BAG_SIZE).map(|b| (usize::from(le16(&b[0..2])), usize::from(le16(&b[2..4])))).collect();
        let gens: Vec<Generator> =
            gens.chunks_exact(GEN_SIZE).map(|g| Generator { op: le16(&g[0..2]), amount: le16(&g[2..4]) }).collect();
        if heads.is_empty() {
            return Err(self.malformed(head_chunk, "no records, not even the terminal one"));
        }
        if bags.is_empty() {
            return Err(self.malformed(bag_chunk, "no records, not even the terminal one"));
        }
        for w in heads.windows(2) {
            if w[1].1 < w[0].1 {
                return Err(self.malformed(
                    head_chunk,
                    format!("\"{}\" starts at bag {} before the previous record's bag {}", w[1].0, w[1].1, w[0].1),
                ));
            }
        }
        let last_bag = heads[heads.len() - 1].1;
        if last_bag >= bags.len() {
            return Err(self.malformed(
                head_chunk,
                format!("the records use bag {last_bag} but '{bag_chunk}' has only {}", bags.len()),
            ));
        }
        for (i, w) in bags.windows(2).enumerate() {
            if w[1].0 < w[0].0 || w[1].1 < w[0].1 {
                return Err(self.malformed(bag_chunk, format!("bag {} starts before bag {i}", i + 1)));
            }
        }
        let (last_gen, last_mod) = bags[bags.len() - 1];
        if last_gen > gens.len() {
            return Err(self.malformed(
                bag_chunk,
                format!("the bags use generator {last_gen} but '{gen_chunk}' has only {}", gens.len()),
            ));
        }
        if last_mod > mod_count {
            return Err(
                self.malformed(bag_chunk, format!("the bags use modulator {last_mod} but there are only {mod_count}"))
            );
        }

        // All indices are now in range and ordered, so the slices below cannot fail.
        let mut out = Vec::with_capacity(heads.len() - 1);
        for w in heads.windows(2) {
            let mut global = None;
            let mut zones = Vec::new();
            for b in w[0].1..w[1].1 {
                let list = &gens[bags[b].0..bags[b + 1].0];
                let end = list.iter().position(|g| g.op == terminal_op);
                let zone = Zone { generators: list[..end.map_or(list.len(), |e| e + 1)].to_vec() };
                if end.is_some() {
                    zones.push(zone);
                } else if b == w[0].1 {
                    // Only the first zone may be global; other zones without a terminal
                    // generator are ignored, as the spec says.
                    global = Some(zone);
                }
            }
            out.push((global, zones));
        }
        Ok(out)
    }
}

fn le16(b: &[u8]) -> u16 {
    u16::from_le_bytes([b[0], b[1]])
}

fn le32(b: &[u8]) -> u32 {
    u32::from_le_bytes([b[0], b[1], b[2], b[3]])
}

/// A fixed-size name field: up to the first NUL, Latin-1, trailing spaces trimmed.
fn decode_name(raw: &[u8]) -> String {
    let end = raw.iter().position(|&b| b == 0).unwrap_or(raw.len());
    raw[..end].iter().map(|&b| b as char).collect::<String>().trim_end().to_string()
}
