export { ArrayDataset, Dataset, TensorDataset, checkIndex } from './dataset.js';
export type { DatasetLike } from './dataset.js';
export { defaultCollate } from './collate.js';
export type { Collated, NumericArray } from './collate.js';
export { DEFAULT_DATA_LOADER_OPTIONS, DataLoader } from './data-loader.js';
export type { BatchContext, DataLoaderOptions } from './data-loader.js';
export { DEFAULT_SPLIT_OPTIONS, randomSplit, splitCounts, splitIndices } from './split.js';
export type { SplitOptions } from './split.js';
export { encodeIdx, idxToTensor, readIdx, readIdxFile } from './idx.js';
export type { EncodeIdxOptions, IdxArray, IdxData, IdxDtype, ReadIdxOptions } from './idx.js';
export { DEFAULT_PARSE_CSV_OPTIONS, csvToTensors, parseCsv, readCsvFile } from './csv.js';
export type { CsvColumnType, CsvTable, CsvTensors, CsvToTensorsOptions, ParseCsvOptions } from './csv.js';
export { cachedFile, defaultDataDir, downloadVerified, sha256Hex } from './download.js';
export type { CachedFile, CachedFileOptions, FetchLike, RemoteFile } from './download.js';
export type { IdxImageOptions, IdxSplitFiles, ImageClassificationData } from './image-dataset.js';
export { MNIST_CLASSES, MNIST_FILES, MNIST_MIRROR, mnist } from './mnist.js';
export type { MnistOptions } from './mnist.js';
export {
  DEBIAN_FASHION_MNIST_DIR,
  FASHION_MNIST_CLASSES,
  FASHION_MNIST_FILES,
  FASHION_MNIST_MIRROR,
  fashionMnist,
} from './fashion-mnist.js';
export { IRIS_FEATURES, iris } from './iris.js';
export type { IrisData, IrisOptions } from './iris.js';
export { DEFAULT_TOY_TRANSLATION_OPTIONS, LETTERS, LETTER_NAMES, toyTranslation } from './toy-translation.js';
export type { ToyTranslationData, ToyTranslationOptions, ToyTranslationPair } from './toy-translation.js';
export { DEFAULT_MACKEY_GLASS_OPTIONS, mackeyGlass } from './mackey-glass.js';
export type { MackeyGlassData, MackeyGlassOptions } from './mackey-glass.js';
export { DEFAULT_WINDOWS_OPTIONS, windows } from './windows.js';
export type { WindowSet, WindowedSeries, WindowsOptions } from './windows.js';
export { MinMaxScaler, StandardScaler } from './scalers.js';
export type { MinMaxScalerState, StandardScalerState } from './scalers.js';
export { normalize } from './normalize.js';
export type { NormalizeOptions } from './normalize.js';
export { oneHot } from './one-hot.js';
export { DEFAULT_AUGMENT_OPTIONS, augmentBatch, augmentImages } from './augment.js';
export type { AugmentOptions, FlipMode } from './augment.js';
export { DEFAULT_EPISODE_SAMPLER_OPTIONS, EpisodeSampler } from './episode-sampler.js';
export type { Episode, EpisodeSamplerOptions } from './episode-sampler.js';
