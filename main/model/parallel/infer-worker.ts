/**
 * Worker thread for segmentation: loads the model once, on the backend the main thread chose, runs
 * forward passes on batches the main thread has already prepared, and post-processes them (masks at
 * native size, scores, uncertainty), so the main thread only reads, prepares and writes. With ONNX Runtime
 * the worker holds one session (its share of the cores as threads) on the folder's model.onnx, which the
 * main thread has self-checked; the input shape comes from model.onnx itself, so such a worker loads
 * neither the model card's schema library (zod) nor the ONNX protobuf definitions: it starts ≈ 0.3 s sooner.
 */
import path from 'node:path';
import { workerData } from 'node:worker_threads';
import type { BatchPredictor } from '../infer';
import { postprocessBatch, transferablesOf } from '../slice-postprocess';
import { ONNX_FILE } from '../onnx/names';
import { createOnnxSession, onnxPredictor, sessionInputShape } from '../onnx/runtime';
import { serveRequests, type WithTransfer } from './protocol';
import type { InferReply, InferRequest, InferWorkerData } from './infer-protocol';

const data = workerData as InferWorkerData;
let predict: BatchPredictor | null = null;

async function handle(req: InferRequest): Promise<InferReply | WithTransfer<InferReply>> {
  switch (req.kind) {
    case 'init': {
      if (data.backend === 'onnxruntime') {
        if (!predict) {
          const file = path.join(data.modelDir, ONNX_FILE);
          const session = await createOnnxSession(file, {
            threads: data.onnxThreads,
            providers: data.onnxProviders,
          });
          predict = onnxPredictor(session, sessionInputShape(session, file));
        }
        return { kind: 'init', backend: 'onnxruntime' };
      }
      // TensorFlow.js is imported only here: an ONNX Runtime worker starts without it (≈ 1 s less).
      const [{ initBackend }, { loadModel }, { localPredictor }] = await Promise.all([
        import('../backend/select'),
        import('../model-io'),
        import('../infer'),
      ]);
      const info = await initBackend(data.backend);
      if (!predict) {
        const { model, card } = await loadModel(data.modelDir);
        predict = localPredictor(model, card);
      }
      return { kind: 'init', backend: info.name };
    }
    case 'predict': {
      if (!predict) throw new Error('inference worker: init first');
      let probs = await predict(req.x, req.count);
      // Only a typed array that owns its whole buffer can be transferred without sending extra bytes.
      if (probs.byteOffset !== 0 || probs.byteLength !== probs.buffer.byteLength) probs = probs.slice();
      return { result: { kind: 'predict', probs }, transfer: [probs.buffer as ArrayBuffer] };
    }
    case 'segment': {
      if (!predict) throw new Error('inference worker: init first');
      const slices = postprocessBatch(await predict(req.x, req.count), req.job);
      return { result: { kind: 'segment', slices }, transfer: transferablesOf(slices) };
    }
  }
}

serveRequests(handle);
