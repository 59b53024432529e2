#!/usr/bin/env python3
"""Headless stand-in for Ardour 7.3's "Import MIDI file as new track" step.

Ardour 7.3's Lua bindings (luasession / ardour7-lua) expose no import function
(Editor:do_import exists only in the GUI), so this does what
libs/ardour/import.cc does for MIDI, on a *saved* session:

  * copy one track of a Standard MIDI File into a new single-track SMF in
    interchange/<session-dir-name>/midifiles/ (meta events dropped, times
    converted to Temporal::Beats at 1920 ticks/beat, written at Ardour's
    default 19200 ppqn), like write_midi_data_to_new_files();
  * source length rounded up to a whole 4/4 bar, like import.cc;
  * add <Source>, a whole-file <Region> and a playlist <Region> (BeatTime,
    position 0) to the .ardour XML and place it on the named MIDI track's
    playlist;
  * add a session range.

With --flatten-tempo the file's tempo map is baked into the event times for a
constant 120 BPM session tempo (Ardour's default), so seconds are preserved
(what "SMFTempoUse" would otherwise achieve by rewriting the session tempo map).
Ardour itself then loads, validates and re-saves the session.

Usage: import_midi.py SESSION_DIR SNAPSHOT MIDI TRACK_INDEX ROUTE_NAME [--flatten-tempo] [--even-ticks] [--discrete-cc]
"""
import math
import os
import sys
import time
import xml.etree.ElementTree as ET

import mido

PPQN_ARDOUR = 1920          # Temporal::ticks_per_beat
PPQN_SMF = 19200            # Evoral::SMF::create default ppqn
SESSION_BPM = 120.0
SC_PER_SEC = 282240000      # superclock rate in the 7.3 TempoMap


def tempo_segments(mf):
    """[(abs_tick, tempo_us)] from all tracks (type 1: track 0)."""
    segs = []
    for tr in mf.tracks:
        t = 0
        for m in tr:
            t += m.time
            if m.type == 'set_tempo':
                segs.append((t, m.tempo))
    segs.sort()
    if not segs or segs[0][0] != 0:
        segs.insert(0, (0, 500000))
    return segs


def tick_to_sec_fn(mf):
    segs = tempo_segments(mf)
    tpb = mf.ticks_per_beat
    starts = []  # (tick, sec, tempo)
    sec = 0.0
    for i, (tk, tempo) in enumerate(segs):
        if i > 0:
            ptk, ptempo = segs[i - 1]
            sec += (tk - ptk) * ptempo / 1e6 / tpb
        starts.append((tk, sec, tempo))

    def f(tick):
        lo = 0
        for j, (tk, _, _) in enumerate(starts):
            if tk <= tick:
                lo = j
            else:
                break
        tk, s, tempo = starts[lo]
        return s + (tick - tk) * tempo / 1e6 / tpb
    return f


def main():
    args = [a for a in sys.argv[1:] if not a.startswith('--')]
    flatten = '--flatten-tempo' in sys.argv
    # --even-ticks: round event times to an even number of 1920-ppq ticks, i.e. to whole
    # samples at 48 kHz / 120 BPM (1 tick = 12.5 samples), so no event sits on a half sample
    # (testing aid: removes host-vs-renderer sub-sample rounding differences)
    even = '--even-ticks' in sys.argv
    # --discrete-cc: play controllers as the file has them (no interpolation between events)
    discrete = '--discrete-cc' in sys.argv
    sess_dir, snapshot, midi_path, track_index, route_name = args
    track_index = int(track_index)

    ardour_file = os.path.join(sess_dir, snapshot + '.ardour')
    tree = ET.parse(ardour_file)
    root = tree.getroot()

    # ---- SMF conversion -------------------------------------------------
    mf = mido.MidiFile(midi_path)
    src = mf.tracks[track_index]
    t2s = tick_to_sec_fn(mf)
    events = []  # (ardour_ticks, msg)
    t = 0
    for m in src:
        t += m.time
        if m.is_meta or m.type == 'sysex':
            continue  # import.cc: "if (ret == 0) { // Meta ... continue; }"
        if flatten:
            beats = t2s(t) * SESSION_BPM / 60.0
            at = int(math.floor(beats * PPQN_ARDOUR + 1e-9))
        else:
            # Temporal::Beats::ticks_at_rate(t, ppqn)
            at = (t // mf.ticks_per_beat) * PPQN_ARDOUR + ((t % mf.ticks_per_beat) * PPQN_ARDOUR) // mf.ticks_per_beat
        if even:
            at = (at // 2) * 2
        events.append((at, m))
    if not events:
        sys.exit('track %d has no MIDI events' % track_index)
    last = events[-1][0]

    out = mido.MidiFile(type=0, ticks_per_beat=PPQN_SMF)
    otr = mido.MidiTrack()
    out.tracks.append(otr)
    prev = 0
    for at, m in events:
        tk = at * (PPQN_SMF // PPQN_ARDOUR)
        otr.append(m.copy(time=tk - prev))
        prev = tk
    otr.append(mido.MetaMessage('end_of_track', time=0))

    interchange = os.path.join(sess_dir, 'interchange')
    sub = [d for d in os.listdir(interchange) if os.path.isdir(os.path.join(interchange, d))][0]
    mdir = os.path.join(interchange, sub, 'midifiles')
    os.makedirs(mdir, exist_ok=True)
    base = '%s-%d' % (route_name, track_index)
    fname = base + '.mid'
    out.save(os.path.join(mdir, fname))

    # length rounded up to whole 4/4 bars, like import.cc
    bar = 4 * PPQN_ARDOUR
    length_ticks = ((last + bar - 1) // bar) * bar if last > 0 else bar
    if length_ticks == last:
        length_ticks += 0

    # ---- XML ---------------------------------------------------------------
    id_counter = int(root.get('id-counter'))
    def new_id():
        nonlocal id_counter
        id_counter += 1
        return str(id_counter)
    sid, wrid, rid = new_id(), new_id(), new_id()
    loc_id = new_id()
    root.set('id-counter', str(id_counter + 10))

    route = None
    for r in root.iter('Route'):
        if r.get('name') == route_name:
            route = r
    if route is None:
        sys.exit('no route named %r' % route_name)
    pl_id = route.get('midi-playlist')
    playlist = None
    for p in root.find('Playlists'):
        if p.get('id') == pl_id:
            playlist = p
    if playlist is None:
        sys.exit('playlist %s not found' % pl_id)

    sources = root.find('Sources')
    source = ET.SubElement(sources, 'Source', {
        'name': fname, 'take-id': '', 'type': 'midi', 'flags': '', 'id': sid,
        'origin': os.path.abspath(midi_path)})
    if discrete:
        # Ardour plays most controllers of a region (CC1, CC11, ...) as lines between their
        # events, sending the values in between; "Discrete" plays each event as it is, as a
        # MIDI file player (and `rosin render`) does. The lane's setting, as MidiSource saves it.
        for channel, cc in sorted({(m.channel, m.control) for _, m in events if m.type == 'control_change'}):
            ET.SubElement(source, 'InterpolationStyle', {'parameter': 'midicc-%d-%d' % (channel, cc),
                                                         'style': 'Discrete'})

    def region_attrs(name, rid_, whole):
        return {
            'name': name, 'muted': '0', 'opaque': '1', 'locked': '0', 'video-locked': '0',
            'automatic': '1' if whole else '0', 'whole-file': '1' if whole else '0',
            'import': '1', 'external': '0', 'sync-marked': '0', 'left-of-split': '0',
            'right-of-split': '0', 'hidden': '0', 'position-locked': '0',
            'valid-transients': '0', 'start': 'b0',
            'length': 'b%d@b0' % length_ticks, 'beat': '0', 'sync-position': 'b0',
            'layer': '0', 'ancestral-start': 'b0', 'ancestral-length': 'b0@b0',
            'stretch': '1', 'shift': '1', 'layering-index': '0', 'tags': '',
            'contents': '1', 'time_domain': 'BeatTime',
            'id': rid_, 'type': 'midi', 'first-edit': 'nothing',
            'source-0': sid, 'master-source-0': sid}
    regions = root.find('Regions')
    ET.SubElement(regions, 'Region', region_attrs(base, wrid, True))
    ET.SubElement(playlist, 'Region', region_attrs(base + '.1', rid, False))

    # session range: 0 .. region end (at 120 BPM: 0.5 s per beat)
    end_sc = int(round(length_ticks / PPQN_ARDOUR * 60.0 / SESSION_BPM * SC_PER_SEC))
    locs = root.find('Locations')
    have = any('IsSessionRange' in (l.get('flags') or '') for l in locs)
    if not have:
        ET.SubElement(locs, 'Location', {
            'id': loc_id, 'name': 'session', 'start': 'a0', 'end': 'a%d' % end_sc,
            'flags': 'IsSessionRange', 'locked': '0', 'timestamp': str(int(time.time())),
            'cue': '0'})
    else:
        for l in locs:
            if 'IsSessionRange' in (l.get('flags') or ''):
                cur = int(l.get('end')[1:])
                l.set('end', 'a%d' % max(cur, end_sc))

    tree.write(ardour_file, encoding='UTF-8', xml_declaration=True)
    print('imported track %d of %s -> %s/%s : %d events, last event at %d ticks (%.3f s at %g BPM), '
          'region length %d ticks (%.3f s), source id %s, region id %s, playlist %s'
          % (track_index, midi_path, mdir, fname, len(events), last,
             last / PPQN_ARDOUR * 60 / SESSION_BPM, SESSION_BPM, length_ticks,
             length_ticks / PPQN_ARDOUR * 60 / SESSION_BPM, sid, rid, pl_id))


if __name__ == '__main__':
    main()
