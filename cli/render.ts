export const render: any = undefined; export const formatSimulation: any = undefined;
