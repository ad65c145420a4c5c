// The /avatar page: draws a Boya rig on a 1920x1080 canvas at the display's frame rate.
// Parameters arrive over a WebSocket at 100 Hz; the drawing code mirrors boya_anchor/render.py
// (same transforms, same mouth geometry) so the browser and video export look alike.
// Without a GPU the compositor's cost grows with the area that changes, so each frame repaints only
// the rectangle the avatar covers now or covered last frame (background copied from a cached canvas),
// and nothing at all when no parameter changed.
"use strict";

const q = new URLSearchParams(location.search);
const canvas = document.getElementById("stage");
const ctx = canvas.getContext("2d");
const status = document.getElementById("status");
let rig = null, names = [], params = {}, lastShape = "X";
let clip = null;            // {track: [[...mouth]], mouthNames, startCtx, duration}
let audioCtx = null, ws = null, mic = null;
let background = null, drawnBox = null, dirty = true;  // cached backdrop, last drawn avatar box, params changed
const stats = {frames: 0, started: performance.now(), frameMs: []};
window.anchorStats = stats;  // read by the latency / fps probes
// Latency probe: speech onsets (worklet, page clock) and when the open mouth arrived and was drawn; ``stages``
// splits each event with the server's stamps (epoch ms, same machine clock): waiting for the chunk holding the
// onset to leave, chunks sent after it until the one that opened the mouth, upload, server, download, next frame.
const probe = {onsets: [], waiting: null, latencies: [], arrivals: [], arrived: false, rtts: [], stages: [], onsetChunk: 0, stamps: null, open: null};
window.anchorProbe = probe;

function affine(m, n) {  // m then n applied first: both [a,b,c,d,e,f]
  return [m[0]*n[0] + m[2]*n[1], m[1]*n[0] + m[3]*n[1], m[0]*n[2] + m[2]*n[3], m[1]*n[2] + m[3]*n[3],
          m[0]*n[4] + m[2]*n[5] + m[4], m[1]*n[4] + m[3]*n[5] + m[5]];
}
function linear(spec, base) {
  if (!spec) return base;
  let v = spec.base ?? base;
  for (const k in spec) if (k !== "base") v += spec[k] * (params[k] ?? 0);
  return v;
}
function groupMatrix(name, cache) {
  if (cache[name]) return cache[name];
  const g = rig.groups[name];
  const parent = g.parent ? groupMatrix(g.parent, cache) : cache.__root;
  const [px, py] = g.pivot || [0, 0];
  const th = linear(g.rot, 0) * Math.PI / 180, sx = linear(g.sx, 1), sy = linear(g.sy, 1);
  const c = Math.cos(th), s = Math.sin(th);
  let local = [1, 0, 0, 1, linear(g.tx, 0) + px, linear(g.ty, 0) + py];
  local = affine(local, [c * sx, s * sx, -s * sy, c * sy, 0, 0]);
  local = affine(local, [1, 0, 0, 1, -px, -py]);
  return (cache[name] = affine(parent, local));
}
function mouthPath(part) {
  const o = params.MouthOpenY, w = params.MouthWidth, r = params.MouthRound, f = params.MouthForm;
  const hw = part.w * (0.45 + 0.55 * w) * (1 - 0.35 * r), oh = part.h * o, lift = -f * part.h * 0.3;
  const uo = oh * 0.45 + r * oh * 0.3, lo = oh * 0.55 + r * oh * 0.3;
  return {hw, oh, lift, uo, lo, cx: part.cx, cy: part.cy};
}
function drawMouth(part) {
  const m = mouthPath(part);
  const L = [m.cx - m.hw, m.cy + m.lift], R = [m.cx + m.hw, m.cy + m.lift];
  ctx.lineCap = "round"; ctx.lineJoin = "round"; ctx.lineWidth = 6; ctx.strokeStyle = part.lip;
  if (m.oh < 1.5) {
    ctx.beginPath(); ctx.moveTo(L[0], L[1]); ctx.quadraticCurveTo(m.cx, m.cy - m.lift, R[0], R[1]); ctx.stroke();
    return;
  }
  const path = new Path2D();
  path.moveTo(L[0], L[1]); path.quadraticCurveTo(m.cx, m.cy - 2 * m.uo, R[0], R[1]);
  path.quadraticCurveTo(m.cx, m.cy + 2 * m.lo, L[0], L[1]); path.closePath();
  ctx.fillStyle = part.fill; ctx.fill(path);
  ctx.save(); ctx.clip(path);
  const top = m.cy + m.lift / 2 - m.uo;
  ctx.globalAlpha *= params.MouthTeeth; ctx.fillStyle = part.teeth;
  ctx.fillRect(m.cx - m.hw, top - 2, 2 * m.hw, Math.min(m.uo + m.lo, part.h * 0.35));
  ctx.restore(); ctx.save(); ctx.clip(path);
  ctx.globalAlpha *= params.MouthTongue; ctx.fillStyle = part.tongue;
  ctx.beginPath(); ctx.ellipse(m.cx, m.cy + m.lift / 2 + m.lo, m.hw * 0.6, Math.max(1, m.lo * 0.8), 0, 0, 2 * Math.PI); ctx.fill();
  ctx.restore();
  ctx.stroke(path);
}
function drawPart(part) {
  ctx.globalAlpha = Math.min(1, Math.max(0, linear(part.alpha, 1)));
  if (ctx.globalAlpha <= 0) return;
  if (part.type === "mouth") return drawMouth(part);
  ctx.beginPath();
  if (part.type === "ellipse") ctx.ellipse(part.cx, part.cy, part.rx, part.ry, 0, 0, 2 * Math.PI);
  else if (part.type === "rect") ctx.roundRect(part.x, part.y, part.w, part.h, part.r || 0);
  else if (part.type === "poly") {
    part.points.forEach(([x, y], i) => (i ? ctx.lineTo(x, y) : ctx.moveTo(x, y)));
    if (part.closed !== false) ctx.closePath();
  }
  if (part.fill) { ctx.fillStyle = part.fill; ctx.fill(); }
  if (part.stroke) { ctx.strokeStyle = part.stroke; ctx.lineWidth = part.width || 4; ctx.lineCap = "round"; ctx.lineJoin = "round"; ctx.stroke(); }
}
function backdrop() {  // the gradient, shaded once per rig into an offscreen canvas (null: transparent page)
  if (q.get("bg") === "none") return null;
  const c = document.createElement("canvas");
  c.width = canvas.width; c.height = canvas.height;
  const g = c.getContext("2d"), grad = g.createLinearGradient(0, 0, 0, c.height);
  grad.addColorStop(0, rig.background[0]); grad.addColorStop(1, rig.background[1]);
  g.fillStyle = grad; g.fillRect(0, 0, c.width, c.height);
  return c;
}
function partBox(part, m) {  // device-space bounding box [x0, y0, x1, y1] of a part, strokes and anti-aliasing included
  let b;
  if (part.type === "ellipse") b = [part.cx - part.rx, part.cy - part.ry, part.cx + part.rx, part.cy + part.ry];
  else if (part.type === "rect") b = [part.x, part.y, part.x + part.w, part.y + part.h];
  else if (part.type === "mouth") b = [part.cx - part.w, part.cy - 2 * part.h, part.cx + part.w, part.cy + 2 * part.h];
  else {
    const xs = part.points.map((p) => p[0]), ys = part.points.map((p) => p[1]);
    b = [Math.min(...xs), Math.min(...ys), Math.max(...xs), Math.max(...ys)];
  }
  const pad = (part.stroke || part.type === "mouth" ? (part.width || 6) : 0) + 2;
  const xs = [], ys = [];
  for (const [x, y] of [[b[0] - pad, b[1] - pad], [b[2] + pad, b[1] - pad], [b[0] - pad, b[3] + pad], [b[2] + pad, b[3] + pad]]) {
    xs.push(m[0] * x + m[2] * y + m[4]); ys.push(m[1] * x + m[3] * y + m[5]);
  }
  return [Math.min(...xs), Math.min(...ys), Math.max(...xs), Math.max(...ys)];
}
function union(a, b) { return a ? (b ? [Math.min(a[0], b[0]), Math.min(a[1], b[1]), Math.max(a[2], b[2]), Math.max(a[3], b[3])] : a) : b; }
// Draw the rig; with ``full`` false, repaint only the union of the avatar's box now and last frame.
function draw(full = true) {
  const [W, H] = rig.canvas;
  if (full || !background && q.get("bg") !== "none") background = backdrop();
  const cache = {__root: [canvas.width / W, 0, 0, canvas.height / H, 0, 0]};
  let box = null;
  for (const part of rig.parts) box = union(box, partBox(part, groupMatrix(part.group, cache)));
  let area = full || !drawnBox ? [0, 0, canvas.width, canvas.height] : union(box, drawnBox);
  area = [Math.max(0, Math.floor(area[0])), Math.max(0, Math.floor(area[1])),
          Math.min(canvas.width, Math.ceil(area[2])), Math.min(canvas.height, Math.ceil(area[3]))];
  const [x, y, w, h] = [area[0], area[1], area[2] - area[0], area[3] - area[1]];
  drawnBox = box;
  ctx.save();
  ctx.setTransform(1, 0, 0, 1, 0, 0); ctx.globalAlpha = 1;
  ctx.beginPath(); ctx.rect(x, y, w, h); ctx.clip();
  if (background) ctx.drawImage(background, x, y, w, h, x, y, w, h);
  else ctx.clearRect(x, y, w, h);
  for (const part of rig.parts) {
    const m = cache[part.group];
    ctx.setTransform(m[0], m[1], m[2], m[3], m[4], m[5]);
    drawPart(part);
  }
  ctx.restore();
}
function applyClip() {
  if (!clip || !audioCtx) return;
  const k = Math.floor((audioCtx.currentTime - clip.startCtx) * 100);
  if (k < 0 || k >= clip.track.length) { if (k >= clip.track.length) clip = null; return; }
  clip.mouthNames.forEach((name, i) => { params[name] = clip.track[k][i]; });
  dirty = true;
}
function frame(now) {
  if (rig) {
    applyClip();
    if (dirty) { draw(false); dirty = false; }
    if (probe.waiting !== null && params.MouthOpenY > 0.25) {
      probe.latencies.push(now - probe.waiting);
      if (probe.open) probe.stages.push(stages(probe.open, now));
      probe.waiting = null;
    }
    stats.frames += 1;
    if (stats.last) stats.frameMs.push(now - stats.last);
    if (stats.frameMs.length > 600) stats.frameMs.shift();
    stats.last = now;
  }
  requestAnimationFrame(frame);
}

function stages(open, drawn) {  // open: {arrival, a: [chunk, received, analysed, sent]} of the first open-mouth frame
  const epoch = (t) => performance.timeOrigin + t, sentAt = (k) => mic && mic.sentAt[k % mic.sentAt.length];
  const [k, received, analysed, sent] = open.a, first = sentAt(probe.onsetChunk), last = sentAt(k);
  return {chunk: first - probe.waiting, later_chunks: last - first, up: received - epoch(last), server: analysed - received,
          send_queue: sent - analysed, down: epoch(open.arrival) - sent, to_frame: drawn - open.arrival, total: drawn - probe.waiting};
}
function ensureAudio(opts) {
  if (!audioCtx) audioCtx = new AudioContext(opts);
  if (audioCtx.state === "suspended") audioCtx.resume();
  return audioCtx;
}
async function playClip(msg) {
  if (q.get("audio") === "0") return;
  try {
    const ac = ensureAudio();
    const data = await (await fetch(msg.url)).arrayBuffer();
    const buffer = await ac.decodeAudioData(data);
    const src = ac.createBufferSource(); src.buffer = buffer; src.connect(ac.destination);
    const start = ac.currentTime + 0.02;
    src.start(start);
    clip = {track: msg.track, mouthNames: msg.mouth_params, startCtx: start, duration: buffer.duration};
  } catch (err) { status.textContent = "audio: " + err; }
}

const WORKLET = `
class PcmUp extends AudioWorkletProcessor {  // sends the audio every 8 ms, one render quantum at 16 kHz, as soon as it is rendered
  constructor() { super(); this.quiet = 0; this.size = Math.ceil(sampleRate * 0.008 / 128) * 128; this.pcm = new Int16Array(this.size); this.n = 0; }
  process(inputs) {
    const ch = inputs[0][0];
    if (!ch) return true;
    for (let i = 0; i < ch.length; i++) {
      const v = Math.max(-1, Math.min(1, ch[i]));
      if (Math.abs(v) > 0.02) { if (this.quiet > 3200) this.port.postMessage({onset: currentTime + i / sampleRate}); this.quiet = 0; }
      else this.quiet++;
      this.pcm[this.n++] = v * 32767;
      if (this.n === this.size) { this.port.postMessage(this.pcm.buffer, [this.pcm.buffer]); this.pcm = new Int16Array(this.size); this.n = 0; }
    }
    return true;
  }
}
registerProcessor("pcm-up", PcmUp);`;

async function startMic() {
  if (mic) return;
  const ac = ensureAudio({sampleRate: 16000});
  const stream = await navigator.mediaDevices.getUserMedia({audio: {echoCancellation: false, noiseSuppression: false, autoGainControl: false}});
  await ac.audioWorklet.addModule(URL.createObjectURL(new Blob([WORKLET], {type: "text/javascript"})));
  const node = new AudioWorkletNode(ac, "pcm-up");
  node.port.onmessage = (e) => {
    if (e.data instanceof ArrayBuffer) {
      if (mic.ready && ws && ws.readyState === 1) { ws.send(e.data); mic.sentAt[mic.sent++ % mic.sentAt.length] = performance.now(); }
      return;
    }
    // When the worklet saw the onset, on the page clock: the context's clock now, less how far it has moved on
    // since that sample (not getOutputTimestamp, which maps to when the sample would reach the loudspeaker).
    const at = performance.now() - (ac.currentTime - e.data.onset) * 1000;
    probe.onsets.push(at); probe.waiting = at; probe.arrived = false; probe.open = null; probe.onsetChunk = mic.sent;
  };
  const source = ac.createMediaStreamSource(stream);
  source.connect(node);
  const ping = setInterval(() => { if (ws && ws.readyState === 1) ws.send(JSON.stringify({type: "ping", t: performance.now()})); }, 250);
  mic = {stream, node, source, ping, ready: false, sent: 0, sentAt: new Array(512)};  // ready: the server's engine is loaded
  ws.send(JSON.stringify({type: "mic", rate: ac.sampleRate}));
  status.textContent = "mic on (" + ac.sampleRate + " Hz)";
}
function stopMic() {
  if (!mic) return;
  clearInterval(mic.ping); mic.source.disconnect(); mic.node.disconnect(); mic.stream.getTracks().forEach((t) => t.stop()); mic = null;
  if (ws && ws.readyState === 1) ws.send(JSON.stringify({type: "mic_off"}));
  status.textContent = "mic off";
}
window.anchorMic = {start: startMic, stop: stopMic};
// Draw one given parameter frame now and return the canvas as PNG (tests compare it with render.py).
window.anchorRender = (frame) => { Object.assign(params, frame); draw(); return canvas.toDataURL("image/png"); };

function connect() {
  const url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/anchor/ws";
  ws = new WebSocket(url);
  ws.onmessage = (e) => {
    const msg = JSON.parse(e.data);
    if (msg.p) {
      names.forEach((n, i) => { params[n] = msg.p[i]; }); lastShape = msg.s; dirty = true;
      if (msg.a) probe.stamps = msg.a;
      if (probe.waiting !== null && !probe.arrived && params.MouthOpenY > 0.25) {  // open mouth received, not yet drawn
        const arrival = performance.now();
        probe.arrivals.push(arrival - probe.waiting); probe.arrived = true;
        if (probe.stamps) probe.open = {arrival, a: probe.stamps};
      }
      return;
    }
    if (msg.type === "hello" || msg.type === "avatar") {
      rig = msg.rig; names = msg.params; status.textContent = ""; background = null; drawnBox = null; dirty = true;
      if (q.get("automic") === "1" && msg.type === "hello") startMic().catch((err) => { status.textContent = "mic: " + err; });
    } else if (msg.type === "clip") playClip(msg);
    else if (msg.type === "mic" && q.get("mic") === "1") (msg.on ? startMic() : Promise.resolve(stopMic())).catch((err) => { status.textContent = "mic: " + err; });
    else if (msg.type === "mic_ready" && mic) mic.ready = true;
    else if (msg.type === "pong") probe.rtts.push(performance.now() - msg.t);
    else if (msg.type === "error") status.textContent = msg.message;
  };
  ws.onclose = () => { status.textContent = "reconnecting..."; mic = null; setTimeout(connect, 1000); };
}
const EXPRESSIONS = JSON.parse(document.getElementById("expressions").textContent);
window.addEventListener("keydown", (e) => {
  const k = parseInt(e.key, 10) - 1;
  if (k >= 0 && k < EXPRESSIONS.length && ws && ws.readyState === 1) ws.send(JSON.stringify({type: "expression", name: EXPRESSIONS[k]}));
  if (e.key === "m") (mic ? Promise.resolve(stopMic()) : startMic()).catch((err) => { status.textContent = "mic: " + err; });
});
window.addEventListener("click", () => ensureAudio());
connect();
requestAnimationFrame(frame);
