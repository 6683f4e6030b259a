export { RotationStrategy } from './strategy';
export { RedshiftTarget, RedshiftTargetType, WorkgroupTargetOptions, CfnWorkgroupTargetOptions } from './target';
export { RotationNetwork, RotationNetworkType, InterfaceEndpointsOptions } from './network';
export { RotationSchedule, RotationCronOptions } from './schedule';
export {
  IRedshiftRotationFunction, RedshiftRotationFunction, RedshiftRotationFunctionAttributes, RedshiftRotationFunctionProps, RotationFunctionOptions,
} from './rotation-function';
export { RedshiftSecretRotation, RedshiftSecretRotationProps } from './redshift-secret-rotation';
