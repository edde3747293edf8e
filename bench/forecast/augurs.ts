/**
 * Grafana's augurs (`@bsull/augurs`, Rust compiled to WASM; https://github.com/grafana/augurs) as the
 * bench's competitor: MSTL with an AutoETS trend (Bandara, Hyndman & Bergmeir 2021) and AutoETS alone.
 *
 * Loading on Node 20: the package's default `init()` fetches its `.wasm` by URL, which Node's fetch cannot
 * do for `file:` URLs, so each module is started with `initSync({ module: bytes })` and the bytes read
 * from beside the module's own file (found with `import.meta.resolve`, the `.wasm` files are not exported).
 *
 * AutoETS in augurs, like R's `ets`, does not fit seasons longer than 24 steps (asked for a 288-step day
 * it takes seconds and returns the non-seasonal model): it gets the daily season where the day is at most
 * 24 steps (hourly data) and runs without one otherwise.
 * @module
 */
import { readFileSync } from 'node:fs';

/** Forecast with the 80% and 95% intervals, `h` values each. */
export interface AugursForecast {
  point: number[];
  lower80: number[];
  upper80: number[];
  lower95: number[];
  upper95: number[];
}

interface AugursModel {
  fit(y: Float64Array): void;
  predict(
    h: number,
    level?: number,
  ): { point: number[]; intervals?: { lower: number[]; upper: number[] } | undefined };
  free(): void;
}

interface Loaded {
  mstl(periods: number[]): AugursModel;
  autoEts(seasonLength: number, spec: string): AugursModel;
}

let loaded: Loaded | undefined;

/**
 * Loads the WASM modules once.
 * @returns `undefined` with the reason when the package is not installed or does not start.
 */
export async function loadAugurs(): Promise<{ ok: true } | { ok: false; reason: string }> {
  if (loaded) return { ok: true };
  try {
    const mstl = await import('@bsull/augurs/mstl');
    const ets = await import('@bsull/augurs/ets');
    const wasm = (spec: string, file: string) => readFileSync(new URL(file, import.meta.resolve(spec)));
    mstl.initSync({ module: wasm('@bsull/augurs/mstl', 'mstl_bg.wasm') });
    ets.initSync({ module: wasm('@bsull/augurs/ets', 'ets_bg.wasm') });
    loaded = {
      mstl: (periods) => mstl.MSTL.ets(periods) as unknown as AugursModel,
      autoEts: (m, spec) => new ets.AutoETS(m, spec) as unknown as AugursModel,
    };
    return { ok: true };
  } catch (err) {
    return { ok: false, reason: (err as Error).message };
  }
}

function run(model: AugursModel, y: Float64Array, h: number): AugursForecast {
  try {
    model.fit(y);
    const a = model.predict(h, 0.8);
    const b = model.predict(h, 0.95);
    const point = a.point;
    return {
      point,
      lower80: a.intervals?.lower ?? point,
      upper80: a.intervals?.upper ?? point,
      lower95: b.intervals?.lower ?? point,
      upper95: b.intervals?.upper ?? point,
    };
  } finally {
    model.free();
  }
}

/** MSTL (AutoETS trend) with the given season lengths, fitted on `y`, `h` steps ahead. @throws on a failed fit. */
export function mstlForecast(y: Float64Array, periods: number[], h: number): AugursForecast {
  return run(loaded!.mstl(periods), y, h);
}

/** AutoETS ('ZZZ' with the season where it is ≤ 24 steps, else 'ZZN'), `h` steps ahead. @throws on a failed fit. */
export function autoEtsForecast(y: Float64Array, period: number, h: number): AugursForecast {
  const seasonal = period > 1 && period <= 24;
  return run(loaded!.autoEts(seasonal ? period : 1, seasonal ? 'ZZZ' : 'ZZN'), y, h);
}
