// The one place shader text becomes pipelines. WGSL files are complete programs whose sizes are
// `override` constants; this loader sets them at pipeline creation and caches modules and pipelines,
// so the scheduler builds everything once, up front.

/** Returns the text of shaders/<name>.wgsl: read from disk in Node, bundled by Vite in the page. */
export type ShaderSource = (name: string) => string;

export type Constants = Record<string, number | boolean>;

export class ShaderError extends Error {}

export class KernelLibrary {
  private readonly modules = new Map<string, GPUShaderModule>();
  private readonly pipelines = new Map<string, GPUComputePipeline>();
  private readonly compilation = new Map<string, Promise<GPUCompilationInfo>>();

  constructor(
    readonly device: GPUDevice,
    private readonly source: ShaderSource,
  ) {}

  pipeline(name: string, constants: Constants): GPUComputePipeline {
    const key = `${name}:${JSON.stringify(constants)}`;
    let pipeline = this.pipelines.get(key);
    if (!pipeline) {
      const overrides: Record<string, number> = {};
      for (const [k, v] of Object.entries(constants)) overrides[k] = typeof v === 'boolean' ? Number(v) : v;
      pipeline = this.device.createComputePipeline({
        label: key,
        layout: 'auto',
        compute: { module: this.module(name), entryPoint: 'main', constants: overrides },
      });
      this.pipelines.set(key, pipeline);
    }
    return pipeline;
  }

  /** Compiles every named shader and throws the first compilation error with its line. */
  async checkCompilation(names: string[]): Promise<void> {
    for (const name of names) {
      // Asked once per module: in Chromium a second getCompilationInfo() on a module never resolves.
      let info = this.compilation.get(name);
      if (!info) this.compilation.set(name, (info = this.module(name).getCompilationInfo()));
      const { messages } = await info;
      const error = messages.find((m) => m.type === 'error');
      if (error) throw new ShaderError(`shaders/${name}.wgsl:${error.lineNum}:${error.linePos}: ${error.message}`);
    }
  }

  private module(name: string): GPUShaderModule {
    let module = this.modules.get(name);
    if (!module) {
      module = this.device.createShaderModule({ label: name, code: this.source(name) });
      this.modules.set(name, module);
    }
    return module;
  }
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

export function bind(device: GPUDevice, pipeline: GPUComputePipeline, resources: (GPUBuffer | GPUBufferBinding)[]): GPUBindGroup {
  return device.createBindGroup({
    layout: pipeline.getBindGroupLayout(0),
    entries: resources.map((r, binding) => ({ binding, resource: 'buffer' in r ? r : { buffer: r } })),
  });
}
