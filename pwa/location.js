// Where the officer is, when the phone allows it: never asked for unprompted,
// never waited on (every screen works without a fix). The caseload sorts by it,
// a visit stamps it, a transport event takes the last fix. app.js wires it.

async function geoPermission() {
  try { return (await navigator.permissions.query({ name: 'geolocation' })).state; } catch { return 'prompt'; }
}

function toFix(p) {
  return { lat: p.coords.latitude, lon: p.coords.longitude, accuracy: p.coords.accuracy, at: Date.now() };
}

/**
 * `state` holds `position` (the caseload's fix), `lastFix` (the newest of any),
 * `locating` and `watching`; `onPosition()` runs when a new caseload fix arrives.
 */
export function createLocation(state, { onPosition = () => {} } = {}) {
  async function currentPosition(timeout = 15000) {
    if (!navigator.geolocation || (await geoPermission()) === 'denied') return null;
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(null), timeout + 500);
      navigator.geolocation.getCurrentPosition(
        (p) => { clearTimeout(timer); state.lastFix = toFix(p); resolve(state.lastFix); },
        () => { clearTimeout(timer); resolve(null); },
        { enableHighAccuracy: true, timeout, maximumAge: 60000 },
      );
    });
  }

  /** A fix for the caseload; `ask`: the officer asked (else only when already allowed). */
  async function locate(ask) {
    if (state.locating) return;
    if (!ask && (await geoPermission()) !== 'granted') return;
    state.locating = true;
    const fix = await currentPosition();
    state.locating = false;
    if (fix) { state.position = fix; onPosition(); }
  }

  async function watchPosition(onFix) {
    state.onFix = onFix || null;
    if (state.watching || !navigator.geolocation || (await geoPermission()) === 'denied') return;
    state.watching = true;
    navigator.geolocation.watchPosition((p) => {
      state.lastFix = toFix(p);
      if (state.onFix) state.onFix(state.lastFix);
    }, () => {}, { enableHighAccuracy: true, maximumAge: 30000 });
  }

  /** The last fix if it is under two minutes old. */
  const lastPosition = () => (state.lastFix && Date.now() - state.lastFix.at < 120000 ? state.lastFix : null);

  return { currentPosition, locate, watchPosition, lastPosition };
}
