export const status: any = undefined; export const formatSimulation: any = undefined;
