// The part of dcmjs (no bundled types) that Tractus uses: naturalised data sets → DICOM Part 10 bytes.
declare module 'dcmjs' {
  /** A data set with keyword names ("PatientName"), as dcmjs's naturalizeDataset returns it. */
  export type NaturalDataset = Record<string, unknown>;
  interface DicomDictInstance {
    dict: Record<string, unknown>;
    write(options?: { fragmentMultiframe?: boolean; allowInvalidVRLength?: boolean }): ArrayBuffer;
  }
  const dcmjs: {
    data: {
      DicomDict: new (meta: Record<string, unknown>) => DicomDictInstance;
      DicomMessage: {
        readFile(
          buffer: ArrayBuffer,
          options?: Record<string, unknown>,
        ): DicomDictInstance & {
          meta: Record<string, unknown>;
        };
      };
      DicomMetaDictionary: {
        denaturalizeDataset(dataset: NaturalDataset): Record<string, unknown>;
        naturalizeDataset(dataset: Record<string, unknown>): NaturalDataset;
      };
    };
  };
  export default dcmjs;
}
