import type { ClassSpec } from '@ml/fewshot-protocomnet';

/**
 * Fashion-MNIST's classes as WordNet noun senses. 'Ankle boot' is not in WordNet; its closest
 * synset is boot (n. 1, "footwear that covers the whole foot and lower leg"). 'Bag' is the handbag
 * sense (n. 4), the one Fashion-MNIST pictures; 'T-shirt/top' is the T-shirt sense (jersey, tee
 * shirt), 'Trouser' the garment trousers (n. 1).
 */
export const FASHION_SYNSETS: Record<string, ClassSpec> = {
  'T-shirt/top': { name: 'T-shirt/top', lemma: 't-shirt' },
  Trouser: { name: 'Trouser', lemma: 'trousers' },
  Pullover: { name: 'Pullover', lemma: 'pullover' },
  Dress: { name: 'Dress', lemma: 'dress' },
  Coat: { name: 'Coat', lemma: 'coat' },
  Sandal: { name: 'Sandal', lemma: 'sandal' },
  Shirt: { name: 'Shirt', lemma: 'shirt' },
  Sneaker: { name: 'Sneaker', lemma: 'sneaker' },
  Bag: { name: 'Bag', lemma: 'bag', sense: 4 },
  'Ankle boot': { name: 'Ankle boot', lemma: 'boot' },
};

/**
 * The split (Fashion-MNIST label ids). Every novel class shares WordNet parts with a base class:
 * Sneaker and Ankle boot get footwear/shoe parts (sole, heel, toe box, lace, …) from Sandal; Shirt
 * gets garment and shirt parts (sleeve, shirttail, …) from T-shirt/top; Coat gets garment parts
 * (sleeve, pocket, …) from T-shirt/top, Trouser and Pullover; Dress gets neckline from Pullover and
 * slide fastener from Trouser. Bag shares almost nothing with the rest, so it stays a base class.
 */
export const BASE_LABELS = [0, 1, 2, 5, 8] as const; // T-shirt/top, Trouser, Pullover, Sandal, Bag
export const NOVEL_LABELS = [3, 4, 6, 7, 9] as const; // Dress, Coat, Shirt, Sneaker, Ankle boot
