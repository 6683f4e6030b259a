/**
 * Invariant 4 for ALTERNATING_USERS, the calls of createSecret, testSecret and finishSecret: a fault or crash at each call (see fault-matrix.ts), then the
 * local service's retry, ends in a completed rotation, and AWSCURRENT always logs in.
 */
import { alternatingMatrixSuite } from './fault-matrix';

alternatingMatrixSuite(['createSecret', 'testSecret', 'finishSecret']);
