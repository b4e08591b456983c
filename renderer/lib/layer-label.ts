/** How a contour layer is named on screen: "Ground truth (imported)", "Model run 2 · <model> · <date>". */
import type { LayerSummary } from '../../preload/api';
import { modelDate, modelName } from './train-curves';

type Translate = (key: string, values?: Record<string, unknown>) => string;

export function layerLabel(t: Translate, layer: Pick<LayerSummary, 'id' | 'model' | 'at'>): string {
  if (layer.id === 'truth') return t('layers.truth');
  const n = Number(layer.id.slice('run:'.length));
  const model = layer.model === 'default' ? t('train.shipped') : modelName(layer.model ?? '?');
  const date = layer.at ? modelDate(layer.at) : '';
  return t('layers.run', { n, model, date });
}
