/**
 * The one contract between the workstation's user interface and its engine. Every call and every event
 * the renderer may use is listed here; the types are the documentation. Both transports (Electron IPC via
 * preload, and the loopback HTTP server for browsers) carry exactly these shapes, so every value is
 * plain JSON: pixels and masks travel in the compact encodings of ./wire.
 */
import type { OrientationLetters } from '../main/core/orientation';
import type { Organ } from '../main/core/organs';
import type { SourceKind } from '../main/core/types';

/** Review state of one slice: straight from the model, corrected by a person, or signed off. */
export type SliceState = 'auto' | 'edited' | 'approved';

/** Where the masks shown for a slice came from. */
export type MaskSource = 'none' | 'ground-truth' | 'prediction' | 'workspace';

export interface SliceSummary {
  id: string;
  number: number;
  state: SliceState;
  /**
   * Millimetres along the slice axis: the source's position (DICOM) or slice number × spacing; null when
   * neither is known. Two days of a patient are shown side by side at the same position.
   */
  positionMm: number | null;
  /** Organs that have at least one pixel on this slice. */
  organs: Organ[];
}

export interface ScanSummary {
  id: string;
  patientId: string;
  day: string;
  description?: string;
  width: number;
  height: number;
  pixelSpacing: [row: number, column: number] | null;
  sliceThickness: number | null;
  /** The input format the scan came from (tells the viewer which way the slice stack runs). */
  source?: SourceKind;
  /** Patient direction at each image edge as displayed ('R', 'A', …); absent when the source does not say. */
  orientation?: OrientationLetters;
  slices: SliceSummary[];
  approved: boolean;
}

export interface PatientSummary {
  id: string;
  /** One entry per treatment day, in order. */
  days: Array<{ day: string; scans: ScanSummary[] }>;
}

export interface DatasetSummary {
  root: string;
  /** True for the bundled synthetic demo patient. */
  demo: boolean;
  patients: PatientSummary[];
  workspace: string;
  /** Problems that did not stop opening (a file skipped, a damaged workspace file restored from a version). */
  warnings: Array<{ where: string; problem: string }>;
}

/** Pixels of one slice; `data` is base64 of little-endian values of `dtype` (see wire.decodePixels). */
export interface SliceImageWire {
  width: number;
  height: number;
  dtype: 'uint8' | 'uint16' | 'int16' | 'float32';
  data: string;
  /** 1st and 99.5th percentiles, a sensible starting window. */
  low: number;
  high: number;
}

/**
 * A whole scan at low cost, for the coronal and sagittal reformats: every slice box-averaged to at most
 * `size` pixels in-plane and quantised to bytes (base64, x fastest, then y, then slice); stored value =
 * offset + byte × scale, so windows in the scan's units still apply.
 */
export interface VolumeWire {
  width: number;
  height: number;
  depth: number;
  data: string;
  offset: number;
  scale: number;
}

/** A binary mask as row-major run lengths starting with a run of zeros (see wire.encodeMask). */
export interface MaskWire {
  width: number;
  height: number;
  runs: number[];
}

export type SliceMasksWire = Partial<Record<Organ, MaskWire>>;

/** A contour layer of a scan: the dataset's own ground truth, or model run N. */
export type LayerId = 'truth' | `run:${number}`;

export interface LayerSummary {
  id: LayerId;
  /** Registry id of the model of a run (`default`: the shipped model). */
  model?: string;
  /** ISO time of a run. */
  at?: string;
  /** Slices with at least one organ pixel in this layer. */
  slices: number;
}

/** Edits set aside when another layer became the working contour (restored by choosing `base` again). */
export interface ShelvedSummary {
  at: string;
  base: LayerId;
  replacedBy: LayerId;
  slices: number;
}

export interface ScanMasks {
  scanId: string;
  /** By slice id; slices without any mask are absent. */
  masks: Record<string, SliceMasksWire>;
  sources: Record<string, MaskSource>;
  states: Record<string, SliceState>;
  approved: boolean;
  /** The layer the working contour starts from; a clinician's edits are on top of it. */
  base: LayerId;
  layers: LayerSummary[];
  shelved: ShelvedSummary[];
  /** Masks of the base layer under each edited slice (an edit undone back to these is no edit). */
  baseMasks: Record<string, SliceMasksWire>;
  /** Slices a person has been shown (recorded with approvals). */
  viewed: string[];
}

/**
 * The slices of a model run a clinician should look at first: most uncertain first (see main/core/review-order),
 * with the model's uncertainty of every slice of that run (0 crisp … 1 fuzzy, see main/model/uncertainty).
 */
export interface ReviewFirst {
  scanId: string;
  /** The run they come from: the one asked for, else the base layer if it is a run, else the newest run; null: none. */
  layer: LayerId | null;
  slices: Array<{ sliceId: string; uncertainty: number }>;
  /** By slice id, every slice of the run (empty for runs made before uncertainty was recorded). */
  uncertainty: Record<string, number>;
}

/** Human contours a segmentation of a scan would replace as its working contour. */
export interface HumanContours {
  scanId: string;
  /** Slices whose working contour is the imported ground truth. */
  truth: number;
  edited: number;
  approved: number;
}

export interface ApproveResult {
  approved: boolean;
  /** Slices approved by this call. */
  approvedSlices: number;
  /** Slices never shown to a person, left unapproved. */
  unviewed: number;
}

export interface OrganVolumes {
  scanId: string;
  /** Millilitres per organ (pixel area × slice thickness); null when the scan has no spacing. */
  ml: Record<Organ, number | null>;
  voxels: Record<Organ, number>;
}

export interface BackendInfo {
  name: string;
  detail?: string;
}

export interface ModelInfo {
  id: string;
  createdAt: string;
  active: boolean;
  /** The model card's description: for fine-tunes, their date and data. */
  note?: string;
  metrics?: Record<string, number>;
}

export type JobKind = 'segment' | 'train' | 'export';

export interface JobSummary {
  id: string;
  kind: JobKind;
  status: 'queued' | 'running' | 'done' | 'failed' | 'cancelled';
  done: number;
  total: number;
  message: string;
  /** Per-scan progress of a batch segmentation, in queue order. */
  items?: Array<{ scanId: string; status: JobSummary['status'] }>;
  /** Epochs finished so far (fine-tune jobs), so a reloaded window can redraw its chart. */
  history?: TrainEpoch[];
  result?: unknown;
  error?: string;
  /** ISO time the job started. */
  startedAt?: string;
  /** The dataset (root folder) the job works on, so another folder's finished job is not shown as this one's. */
  datasetRoot?: string;
}

/** rtstruct, dicom-seg, nifti, nnunet: the clinical formats of main/services/export (one file or folder per scan). */
export type ExportFormat =
  'coco' | 'kaggle-csv' | 'png-masks' | 'rtstruct' | 'dicom-seg' | 'nifti' | 'nnunet';

export interface ExportResult {
  format: ExportFormat;
  /** Files written, absolute paths on the machine running the engine. */
  files: string[];
}

export interface AppInfo {
  version: string;
  backend: BackendInfo;
  /** 'electron' or 'http': what carries this contract right now. */
  transport: 'electron' | 'http';
}

export interface Settings {
  locale: 'en' | 'fr';
  recentFolders: string[];
  overlayOpacity: number;
  overlayStyle: 'fill' | 'contour';
  zoom: number;
  /**
   * A clinic's own structure names for the RTSTRUCT / DICOM-SEG export, by organ; an organ not listed keeps
   * its AAPM TG-263 name (main/export/organ-names). The same rule as `tractus export --roi-names`.
   */
  roiNames: Partial<Record<Organ, string>>;
}

/** One finished epoch of a fine-tune, as the training loop records it (history.jsonl). */
export interface TrainEpoch {
  epoch: number;
  /** Epochs asked for (the run may stop earlier: cancel or early stopping). */
  epochs: number;
  /** Mean training loss (BCE + soft Dice) over the epoch. */
  loss: number;
  /** Validation on held-out patients; null when the data has only one patient. */
  valLoss: number | null;
  valDice: Record<Organ, number | null> | null;
  valMeanDice: number | null;
  learningRate: number;
  /** This epoch's weights are the ones kept (best validation mean Dice so far). */
  best: boolean;
  seconds: number;
}

/** One model's Dice on the held-out slices of a fine-tune. */
export interface ModelScore {
  /** Registry id, or `default` for the shipped model. */
  model: string;
  /** Mean per-slice Dice per organ; null where neither the masks nor the model show the organ. */
  dice: Record<Organ, number | null>;
  /** Mean of the organs' Dice that are defined; null when none is. */
  mean: number | null;
}

/** The model in use and the fine-tuned one, scored the same way on the same held-out slices. */
export interface ModelComparison {
  slices: number;
  patients: string[];
  current: ModelScore;
  candidate: ModelScore;
  /** True only when the candidate scores a higher mean Dice than the current model. */
  recommend: boolean;
}

/** What a finished (or cancelled) fine-tune job returns. */
export interface TrainResult {
  /** Registry id of the new model; null when the run was cancelled (nothing registered). */
  modelId: string | null;
  /** What the new model is called: date and data ("fine-tune 2026-11-30, 16 slices of case11_day20"). */
  title: string;
  /** Current vs new model on the held-out slices; null without held-out patients or when cancelled. */
  comparison: ModelComparison | null;
  /** The model it was fine-tuned from: registry id, or null for the shipped default. */
  baseModelId: string | null;
  /** The COCO training set written into the workspace (corrected/approved slices and their images). */
  trainingSet: string;
  /** The run folder: model files, model-card.json, history.jsonl, checkpoint. */
  outDir: string;
  slices: number;
  /** Patients held out for validation (0 when the data has a single patient). */
  validationPatients: number;
  history: TrainEpoch[];
  cancelled: boolean;
  backend: string;
}

/** Every request channel: its argument and its result. */
export interface Calls {
  'app:info': { args: Record<string, never>; result: AppInfo };
  'settings:get': { args: Record<string, never>; result: Settings };
  'settings:set': { args: Partial<Settings>; result: Settings };
  'dataset:open': { args: { path: string }; result: DatasetSummary };
  'dataset:openDemo': { args: Record<string, never>; result: DatasetSummary };
  'dataset:current': { args: Record<string, never>; result: DatasetSummary | null };
  'scan:slice': { args: { scanId: string; index: number }; result: SliceImageWire };
  /** Small 8-bit previews of the given slices (size × size at most, aspect kept). */
  'scan:thumbnails': {
    args: { scanId: string; indices: number[]; size: number };
    result: Array<{ index: number; image: SliceImageWire }>;
  };
  /** The whole scan, downsampled and quantised (see VolumeWire), for reformats. */
  'scan:volume': { args: { scanId: string; size: number }; result: VolumeWire };
  'masks:get': { args: { scanId: string }; result: ScanMasks };
  /** Save the corrected masks of one slice (autosave); marks it edited unless `state` says otherwise. */
  'masks:save': {
    args: { scanId: string; sliceId: string; masks: SliceMasksWire; state?: SliceState };
    result: { version: number; state: SliceState };
  };
  'slice:setState': {
    args: { scanId: string; sliceId: string; state: SliceState };
    result: { state: SliceState };
  };
  /**
   * Approve the slices a person was shown (`viewed` adds to those recorded), or every slice with
   * `includeUnviewed`; records who, when, from which layer and what changed in the scan's audit trail.
   */
  'scan:approve': {
    args: { scanId: string; approved: boolean; viewed?: string[]; includeUnviewed?: boolean };
    result: ApproveResult;
  };
  /** Masks of one layer of a scan by slice id (for side-by-side and difference views). */
  'layers:masks': { args: { scanId: string; layer: LayerId }; result: Record<string, SliceMasksWire> };
  /** Make a layer the working contour; the edits on the old one are shelved, those on this one restored. */
  'layers:use': { args: { scanId: string; layer: LayerId }; result: ScanMasks };
  /** Scans of a segmentation scope whose human contours a new run would replace (empty: nothing to ask). */
  'segment:check': {
    args: { scope: 'scan' | 'patient' | 'dataset'; id?: string };
    result: HumanContours[];
  };
  'scan:volumes': { args: { scanId: string }; result: OrganVolumes };
  /** A model run's slices to review first (of `layer`, else the working contour's run, else the newest run). */
  'review:first': { args: { scanId: string; layer?: LayerId }; result: ReviewFirst };
  /**
   * Each run is a new layer; it becomes the working contour of scans with human contours only when
   * `replace` (the user was asked), otherwise only of scans without any.
   */
  'segment:start': {
    args: { scope: 'scan' | 'patient' | 'dataset'; id?: string; resume?: boolean; replace?: boolean };
    result: { jobId: string };
  };
  'train:start': {
    args: { epochs: number; include: Array<'edited' | 'approved'> };
    result: { jobId: string };
  };
  'export:start': { args: { format: ExportFormat; outDir?: string }; result: { jobId: string } };
  'job:cancel': { args: { jobId: string }; result: { cancelled: boolean } };
  'job:get': { args: { jobId: string }; result: JobSummary };
  'jobs:list': { args: Record<string, never>; result: JobSummary[] };
  'models:list': { args: Record<string, never>; result: ModelInfo[] };
  'models:activate': { args: { id: string }; result: ModelInfo[] };
  'models:rollback': { args: Record<string, never>; result: ModelInfo[] };
}

export type Channel = keyof Calls;
export type ArgsOf<C extends Channel> = Calls[C]['args'];
export type ResultOf<C extends Channel> = Calls[C]['result'];

/** Every event the engine pushes to the user interface. */
export interface Events {
  'job:update': JobSummary;
  'train:epoch': { jobId: string } & TrainEpoch;
  /** Menu commands from the native menu (Electron only). */
  menu: { command: MenuCommand; path?: string };
}
export type EventName = keyof Events;

export type MenuCommand =
  | 'open-folder'
  | 'open-recent'
  | 'open-demo'
  | 'export'
  | 'undo'
  | 'redo'
  | 'zoom-in'
  | 'zoom-out'
  | 'zoom-fit'
  | 'about'
  | 'doctor';

/** An error a call returns: `where`/`problem` for input errors, so the UI can say what to fix. */
export interface ApiErrorBody {
  error: string;
  where?: string;
  problem?: string;
}

/** What the renderer talks to; implemented by the preload bridge and by the HTTP client. */
export interface TractusApi {
  call<C extends Channel>(channel: C, args: ArgsOf<C>): Promise<ResultOf<C>>;
  /** Subscribe to an event; returns the function that unsubscribes. */
  on<E extends EventName>(event: E, listener: (payload: Events[E]) => void): () => void;
  readonly transport: 'electron' | 'http';
}

/** The global the preload script exposes in Electron. */
export const BRIDGE_NAME = 'tractus';
