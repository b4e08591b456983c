/**
 * The names an exported model.onnx and its sessions agree on. Apart from the exporter so that code which
 * only runs sessions (the inference workers) does not load the ONNX protobuf definitions.
 */
export const ONNX_FILE = 'model.onnx';
export const ONNX_INPUT = 'image';
export const ONNX_OUTPUT = 'probabilities';
