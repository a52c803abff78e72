// The one place shader text becomes pipelines. WGSL files are complete programs whose sizes are
// `override` constants; this loader sets them at pipeline creation (after checking what the pipeline needs
// against the device's limits) and caches modules and pipelines, so the scheduler builds everything once,
// up front. Pipelines are only ever built asynchronously: builders record dispatches (dispatch()), which
// start their pipelines at once, and one `await lib.ready()` after building completes them all.

import { checkKernelLimits, kernelNeeds } from './kernel_needs.ts';

/** Returns the text of shaders/<name>.wgsl: read from disk in Node, bundled by Vite in the page. */
export type ShaderSource = (name: string) => string;

export type Constants = Record<string, number | boolean>;

export class ShaderError extends Error {}

export interface KernelLibraryOptions {
  /** Write every pipeline's constants into its source (tests force the path the fallback takes). */
  constantsInSource?: boolean;
}

export class KernelLibrary {
  private readonly modules = new Map<string, GPUShaderModule>();
  private readonly pipelines = new Map<string, Promise<GPUComputePipeline>>();
  private readonly pending: KernelDispatch[] = [];
  private readonly compilation = new Map<string, Promise<GPUCompilationInfo>>();
  /**
   * Shaders whose `override` constants are written into the source as `const`s, one module per set of
   * constants: those a shader compiler rejected with overrides (older wgpu, in Firefox and Deno, does not
   * take override-sized workgroup arrays) but accepts so. Each shape has a pipeline of its own anyway.
   */
  private readonly inSource = new Set<string>();

  constructor(
    readonly device: GPUDevice,
    private readonly source: ShaderSource,
    private readonly options: KernelLibraryOptions = {},
  ) {}

  /**
   * The pipeline of `name` with `constants`, built once through createComputePipelineAsync (the browsers'
   * preferred path: it compiles off the main thread, and a failure comes back as a rejected promise rather
   * than an invalid object). Its needs are checked against the device's limits first.
   */
  pipeline(name: string, constants: Constants): Promise<GPUComputePipeline> {
    try {
      return this.start(name, constants);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /**
   * A dispatch for a builder that records its dispatches synchronously (ModelProgram, the optimizer): its
   * limits are checked now, so a model that cannot run is refused while it is being built; its pipeline is
   * started now, concurrently with the others; its pipeline and bind group exist once ready() resolves.
   */
  dispatch(kernel: string, constants: Constants, resources: BindingResource[], workgroups: [number, number, number]): KernelDispatch {
    const d = new KernelDispatch(kernel, workgroups, this.start(kernel, constants), resources);
    this.pending.push(d);
    return d;
  }

  /** Completes every dispatch recorded since the last call; rejects with the first pipeline that failed. */
  async ready(): Promise<void> {
    const pending = this.pending.splice(0);
    await Promise.all(pending.map((d) => d.complete(this.device)));
  }

  private start(name: string, constants: Constants): Promise<GPUComputePipeline> {
    const key = `${name}:${JSON.stringify(constants)}`;
    let pipeline = this.pipelines.get(key);
    if (!pipeline) {
      checkKernelLimits(name, kernelNeeds(this.source(name), constants), this.device.limits);
      pipeline = this.build(name, constants, key);
      // Marked handled here: a builder that throws part-way leaves started pipelines nobody awaits.
      pipeline.catch(() => undefined);
      this.pipelines.set(key, pipeline);
    }
    return pipeline;
  }

  private async build(name: string, constants: Constants, key: string): Promise<GPUComputePipeline> {
    const create = (inSource: boolean) => {
      const overrides: Record<string, number> = {};
      if (!inSource) for (const [k, v] of Object.entries(constants)) overrides[k] = typeof v === 'boolean' ? Number(v) : v;
      const module = inSource ? this.module(name, constants) : this.module(name);
      return this.device.createComputePipelineAsync({
        label: key,
        layout: 'auto',
        compute: { module, entryPoint: 'main', constants: overrides },
      });
    };
    const inSource = this.options.constantsInSource === true || this.inSource.has(name);
    try {
      return await create(inSource);
    } catch (e) {
      // A compiler that rejects override-sized arrays may do so only when the pipeline is built: the same
      // fallback as checkCompilation's, and the shader's own error (with its line) when that fails too.
      if (!inSource) {
        const fallback = await create(true).catch(() => null);
        if (fallback) {
          this.inSource.add(name);
          return fallback;
        }
      }
      const error = await this.firstError(inSource ? key : name, inSource ? this.module(name, constants) : this.module(name));
      if (error) throw new ShaderError(`shaders/${name}.wgsl:${error.lineNum}:${error.linePos}: ${error.message}`);
      throw new ShaderError(`shaders/${name}.wgsl with ${JSON.stringify(constants)}: ${(e as Error).message}`);
    }
  }

  /**
   * Compiles every named shader and throws the first compilation error with its line, unless the shader
   * compiles with its constants written into the source, which its pipelines then do.
   */
  async checkCompilation(names: string[]): Promise<void> {
    for (const name of names) {
      const error = await this.firstError(name, this.module(name));
      if (!error) continue;
      if (!(await this.firstError(`${name} (constants in source)`, this.module(name, {})))) {
        this.inSource.add(name);
        continue;
      }
      throw new ShaderError(`shaders/${name}.wgsl:${error.lineNum}:${error.linePos}: ${error.message}`);
    }
  }

  private async firstError(key: string, module: GPUShaderModule): Promise<GPUCompilationMessage | undefined> {
    // Asked once per module: in Chromium a second getCompilationInfo() on a module never resolves.
    let info = this.compilation.get(key);
    if (!info) this.compilation.set(key, (info = module.getCompilationInfo()));
    return (await info).messages.find((m) => m.type === 'error');
  }

  /** The shader's module; with `constants`, the one with them (and the other overrides' defaults) as consts. */
  private module(name: string, constants?: Constants): GPUShaderModule {
    const key = constants ? `${name}:${JSON.stringify(constants)}` : name;
    let module = this.modules.get(key);
    if (!module) {
      const code = constants ? constantsInSource(this.source(name), constants) : this.source(name);
      module = this.device.createShaderModule({ label: key, code });
      this.modules.set(key, module);
    }
    return module;
  }
}

/**
 * `override NAME: T (= default);` becomes `const NAME: T = value;` for each given constant, and for each one
 * with a default; an override with neither stays (its pipeline fails as it would have).
 */
export function constantsInSource(source: string, constants: Constants): string {
  return source.replace(/override\s+(\w+)\s*:\s*(\w+)\s*(?:=\s*([^;]+))?;/g, (whole, name: string, type: string, initial?: string) => {
    const given = constants[name];
    if (given === undefined) return initial === undefined ? whole : `const ${name}: ${type} = ${initial.trim()};`;
    return `const ${name}: ${type} = ${literal(type, given)};`;
  });
}

function literal(type: string, v: number | boolean): string {
  if (type === 'bool') return v === true || v === 1 ? 'true' : 'false';
  const n = Number(v);
  if (type === 'u32') return `${n}u`;
  if (type === 'i32') return `${n}i`;
  const text = String(n);
  return /[.e]/.test(text) ? `${text}f` : `${text}.0f`;
}

export function ceilDiv(n: number, d: number): number {
  return Math.ceil(n / d);
}

/** A 2D grid of at least `count` workgroups, as kernels that index with (wg.y * nwg.x + wg.x) expect. */
export function grid2d(count: number, maxPerDim: number): [number, number] {
  if (count <= maxPerDim) return [Math.max(count, 1), 1];
  const y = ceilDiv(count, maxPerDim);
  return [ceilDiv(count, y), y];
}

export type BindingResource = GPUBuffer | GPUBufferBinding;

export function bind(device: GPUDevice, pipeline: GPUComputePipeline, resources: BindingResource[]): GPUBindGroup {
  return device.createBindGroup({
    layout: pipeline.getBindGroupLayout(0),
    entries: resources.map((r, binding) => ({ binding, resource: 'buffer' in r ? r : { buffer: r } })),
  });
}

/**
 * One dispatch of a program (the shape of model_program.ts's Dispatch) whose pipeline is still being built:
 * reading its pipeline or bind group before KernelLibrary.ready() has resolved is a bug, and says so.
 */
export class KernelDispatch {
  private built: { pipeline: GPUComputePipeline; bindGroup: GPUBindGroup } | null = null;

  constructor(
    readonly kernel: string,
    readonly workgroups: [number, number, number],
    private readonly building: Promise<GPUComputePipeline>,
    private readonly resources: BindingResource[],
  ) {}

  get pipeline(): GPUComputePipeline {
    return this.done().pipeline;
  }

  get bindGroup(): GPUBindGroup {
    return this.done().bindGroup;
  }

  async complete(device: GPUDevice): Promise<void> {
    const pipeline = await this.building;
    this.built = { pipeline, bindGroup: bind(device, pipeline, this.resources) };
  }

  private done(): { pipeline: GPUComputePipeline; bindGroup: GPUBindGroup } {
    if (!this.built) throw new Error(`${this.kernel}: encoded before KernelLibrary.ready() built its pipeline`);
    return this.built;
  }
}
