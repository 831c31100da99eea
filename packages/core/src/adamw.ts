import { Adam, type AdamOptions } from './adam.js';

/** Defaults of {@link AdamOptions} for {@link AdamW}, PyTorch's (weight decay 0.01). */
export const DEFAULT_ADAMW_OPTIONS = {
  lr: 1e-3,
  betas: [0.9, 0.999],
  eps: 1e-8,
  weightDecay: 1e-2,
  amsgrad: false,
} as const;

/**
 * AdamW (Loshchilov & Hutter), PyTorch's `torch.optim.AdamW`: Adam whose weight decay is decoupled from
 * the gradient — p ← p·(1 − lr·weightDecay), then the Adam update on the raw gradient.
 *
 * `const opt = new AdamW(model, { lr: 3e-4, weightDecay: 0.1 })`.
 */
export class AdamW extends Adam {
  override readonly kind: string = 'AdamW';

  protected override defaults(): Required<Omit<AdamOptions, 'weightDecayFilter'>> {
    return DEFAULT_ADAMW_OPTIONS;
  }

  protected override decoupledWeightDecay(): boolean {
    return true;
  }
}
